// Region::Digest: a visitor that hashes every state array in the region's own order.
#include "kernel/region.h"

#include "kernel/digest.h"

namespace thalia::kernel {
namespace {

class DigestVisitor final : public StateVisitor {
 public:
  explicit DigestVisitor(bool full) : full_(full) {}
  bool wants_heavy() const override { return full_; }
  void F32(std::string_view name, std::span<float> data, bool heavy) override {
    if (heavy && !full_) return;
    h_.Str(name);
    h_.Floats(data);
  }
  void I32(std::string_view name, std::span<int32_t> data) override {
    h_.Str(name);
    h_.Ints(data);
  }
  void U64(std::string_view name, std::vector<uint64_t>& data) override {
    h_.Str(name);
    h_.U64s(data);
  }
  uint64_t Final() const { return h_.Final(); }

 private:
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
