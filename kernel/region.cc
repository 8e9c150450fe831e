// Region::Digest: a visitor that hashes every state array, split-invariantly (kernel/digest.h).
#include "kernel/region.h"

#include <string>

#include "kernel/digest.h"
#include "kernel/status.h"

namespace thalia::kernel {
namespace {

class DigestVisitor final : public StateVisitor {
 public:
  explicit DigestVisitor(bool full) : full_(full) {}
  bool wants_heavy() const override { return full_; }
  bool hashing() const override { return true; }
  // Fixed-size arrays are hashed by their indexed sums (kernel/digest.h), which parts of the
  // array summed apart (shards) add up to; variable-length lists as sequences.
  void F32(std::string_view name, std::span<float> data, bool heavy) override {
    F32Slice(name, data, 0, data.size(), heavy);
  }
  void I32(std::string_view name, std::span<int32_t> data) override {
    I32Slice(name, data, 0, data.size());
  }
  void F32Slice(std::string_view name, std::span<float> data, uint64_t first, uint64_t total,
                bool heavy) override {
    if (heavy && !full_) return;
    Add(DigestPart::kSum, name, total, IndexedSum(data.data(), data.size(), first));
  }
  void I32Slice(std::string_view name, std::span<int32_t> data, uint64_t first,
                uint64_t total) override {
    Add(DigestPart::kSum, name, total, IndexedSum(data.data(), data.size(), first));
  }
  void U64(std::string_view name, std::vector<uint64_t>& data) override {
    Add(DigestPart::kList, name, data.size(), HashList(data));
  }
  void Counters(std::string_view name, std::vector<uint64_t>& data) override {
    Add(DigestPart::kCounters, name, data.size(), 0);
    part_.entries.back().words = data;
  }
  void SetSum(std::string_view name, uint64_t count, uint64_t sum, bool heavy) override {
    if (full_ || !heavy) Add(DigestPart::kSet, name, count, sum);
  }
  DigestPart Take() { return std::move(part_); }

 private:
  void Add(DigestPart::Kind kind, std::string_view name, uint64_t length, uint64_t value) {
    part_.entries.push_back({kind, HashName(name), length, value, {}});
  }
  bool full_;
  DigestPart part_;
};

}  // namespace

void StateVisitor::F32Slice(std::string_view name, std::span<float>, uint64_t, uint64_t, bool) {
  THALIA_CHECK_MSG(false, "a part of a split region's state (" + std::string(name) +
                              ") cannot be saved or loaded, only digested");
}

void StateVisitor::I32Slice(std::string_view name, std::span<int32_t>, uint64_t, uint64_t) {
  THALIA_CHECK_MSG(false, "a part of a split region's state (" + std::string(name) +
                              ") cannot be saved or loaded, only digested");
}

DigestPart Region::DigestEntries(bool full) {
  DigestVisitor v(full);
  VisitState(v);
  return v.Take();
}

uint64_t Region::Digest(bool full) {
  DigestPart part = DigestEntries(full);
  uint64_t d = 0;
  THALIA_CHECK(CombineDigestParts({&part, 1}, &d));
  return d;
}

}  // namespace thalia::kernel
