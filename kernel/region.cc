// Region::Digest: a visitor that hashes every state array, split-invariantly (kernel/digest.h).
#include "kernel/region.h"

#include "kernel/digest.h"

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
    if (heavy && !full_) return;
    Array(name, data.data(), data.size());
  }
  void I32(std::string_view name, std::span<int32_t> data) override {
    Array(name, data.data(), data.size());
  }
  void U64(std::string_view name, std::vector<uint64_t>& data) override {
    h_.Str(name);
    h_.U64s(data);
  }
  void SynapseSum(std::string_view name, uint64_t count, uint64_t sum) override {
    if (!full_) return;
    h_.Str(name);
    h_.U64(count);
    h_.U64(sum);
  }
  uint64_t Final() const { return h_.Final(); }

 private:
  void Array(std::string_view name, const void* data, size_t n) {
    h_.Str(name);
    h_.U64(n);
    h_.U64(IndexedSum(data, n, 0));
  }
  bool full_;
  Hasher h_;
};

}  // namespace

uint64_t Region::Digest(bool full) {
  DigestVisitor v(full);
  VisitState(v);
  return v.Final();
}

}  // namespace thalia::kernel
