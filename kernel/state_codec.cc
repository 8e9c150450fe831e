// Saving writes each visited array as a StateArray; loading checks name and size before copying.
#include "kernel/state_codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "kernel/big_alloc.h"
#include "schemas/state_generated.h"

namespace thalia::kernel {
namespace {

class SaveVisitor final : public StateVisitor {
 public:
  explicit SaveVisitor(flatbuffers::FlatBufferBuilder* b) : b_(b) {}
  void F32(std::string_view name, std::span<float> d, bool) override {
    auto n = b_->CreateString(name.data(), name.size());
    auto v = b_->CreateVector(d.data(), d.size());
    schema::StateArrayBuilder a(*b_);
    a.add_name(n);
    a.add_f32(v);
    arrays_.push_back(a.Finish());
  }
  void I32(std::string_view name, std::span<int32_t> d) override {
    auto n = b_->CreateString(name.data(), name.size());
    auto v = b_->CreateVector(d.data(), d.size());
    schema::StateArrayBuilder a(*b_);
    a.add_name(n);
    a.add_i32(v);
    arrays_.push_back(a.Finish());
  }
  void U64(std::string_view name, std::vector<uint64_t>& d) override {
    auto n = b_->CreateString(name.data(), name.size());
    auto v = b_->CreateVector(d);
    schema::StateArrayBuilder a(*b_);
    a.add_name(n);
    a.add_u64(v);
    arrays_.push_back(a.Finish());
  }
  std::vector<flatbuffers::Offset<schema::StateArray>> arrays_;

 private:
  flatbuffers::FlatBufferBuilder* b_;
};

class LoadVisitor final : public StateVisitor {
 public:
  explicit LoadVisitor(const schema::RegionState* s) : s_(s) {}
  bool loading() const override { return true; }
  void F32(std::string_view name, std::span<float> d, bool) override {
    const schema::StateArray* a = Next(name);
    if (!a) return;
    if (!a->f32() || a->f32()->size() != d.size()) return Fail(name, "float array of another size");
    std::memcpy(d.data(), a->f32()->data(), d.size() * sizeof(float));
  }
  void I32(std::string_view name, std::span<int32_t> d) override {
    const schema::StateArray* a = Next(name);
    if (!a) return;
    if (!a->i32() || a->i32()->size() != d.size()) return Fail(name, "int array of another size");
    std::memcpy(d.data(), a->i32()->data(), d.size() * sizeof(int32_t));
  }
  void U64(std::string_view name, std::vector<uint64_t>& d) override {
    const schema::StateArray* a = Next(name);
    if (!a) return;
    if (!a->u64()) return Fail(name, "missing u64 array");
    d.assign(a->u64()->begin(), a->u64()->end());
  }
  Status status() const {
    if (!status_.ok()) return status_;
    if (s_->arrays() && index_ != s_->arrays()->size())
      return Status::Invalid("region state has " + std::to_string(s_->arrays()->size() - index_) +
                             " arrays more than the region");
    return Status::Ok();
  }

 private:
  const schema::StateArray* Next(std::string_view name) {
    if (!status_.ok()) return nullptr;
    if (!s_->arrays() || index_ >= s_->arrays()->size()) {
      Fail(name, "array missing");
      return nullptr;
    }
    const schema::StateArray* a = s_->arrays()->Get(index_++);
    if (a->name()->string_view() != name) {
      Fail(name, "found '" + a->name()->str() + "' instead");
      return nullptr;
    }
    return a;
  }
  void Fail(std::string_view name, const std::string& why) {
    if (status_.ok())
      status_ = Status::Invalid("region state array '" + std::string(name) + "': " + why);
  }
  const schema::RegionState* s_;
  uint32_t index_ = 0;
  Status status_;
};

}  // namespace

std::vector<uint8_t> SaveRegionState(Region& region) {
  flatbuffers::FlatBufferBuilder b(region.StateBytesHint() + (1 << 16), &BufferAllocator());
  SaveVisitor v(&b);
  region.VisitState(v);
  auto arrays = b.CreateVector(v.arrays_);
  auto name = b.CreateString(region.spec().name);
  auto type = b.CreateString(region.spec().type);
  schema::RegionStateBuilder rs(b);
  rs.add_version(kRegionStateVersion);
  rs.add_region(static_cast<uint16_t>(region.spec().id));
  rs.add_name(name);
  rs.add_type(type);
  rs.add_tick(region.tick());
  rs.add_arrays(arrays);
  b.Finish(rs.Finish(), schema::RegionStateIdentifier());
  return CopyToFreshBytes({b.GetBufferPointer(), b.GetSize()});
}

Status LoadRegionState(Region& region, std::span<const uint8_t> buf) {
  flatbuffers::Verifier verifier(buf.data(), buf.size(), 64, 100000000);
  if (!schema::VerifyRegionStateBuffer(verifier))
    return Status::Corrupt("region state of '" + region.spec().name + "' fails verification");
  const schema::RegionState* s = schema::GetRegionState(buf.data());
  if (s->version() != kRegionStateVersion)
    return Status::Invalid("region state version " + std::to_string(s->version()) +
                           ", this build reads version " + std::to_string(kRegionStateVersion));
  if (!s->name() || s->name()->str() != region.spec().name || s->region() != region.spec().id)
    return Status::Invalid("region state is for another region than '" + region.spec().name + "'");
  LoadVisitor v(s);
  region.VisitState(v);
  THALIA_RETURN_IF_ERROR(v.status().Context("region '" + region.spec().name + "'"));
  region.FinishLoad();
  return Status::Ok();
}

Result<std::vector<uint8_t>> JoinPartStates(std::span<const std::vector<uint8_t>> parts) {
  if (parts.empty()) return Status::Invalid("no parts to join");
  std::vector<schema::RegionStateT> states(parts.size());
  for (size_t k = 0; k < parts.size(); ++k) {
    flatbuffers::Verifier verifier(parts[k].data(), parts[k].size(), 64, 100000000);
    if (!schema::VerifyRegionStateBuffer(verifier)) return Status::Corrupt("a part's region state fails verification");
    schema::GetRegionState(parts[k].data())->UnPackTo(&states[k]);
  }
  schema::RegionStateT& out = states[0];
  auto differ = [&](const std::string& what) {
    return Status::Internal("the parts of region '" + out.name + "' disagree on " + what);
  };
  for (size_t k = 1; k < states.size(); ++k) {
    const schema::RegionStateT& p = states[k];
    if (p.version != out.version || p.region != out.region || p.name != out.name || p.tick != out.tick ||
        p.arrays.size() != out.arrays.size())
      return differ("the region or its tick");
    for (size_t i = 0; i < out.arrays.size(); ++i) {
      schema::StateArrayT& a = *out.arrays[i];
      const schema::StateArrayT& b = *p.arrays[i];
      if (a.name != b.name || a.f32.size() != b.f32.size() || a.i32.size() != b.i32.size())
        return differ("array " + a.name);
      for (size_t j = 0; j < a.f32.size(); ++j)
        a.f32[j] = std::bit_cast<float>(std::bit_cast<uint32_t>(a.f32[j]) | std::bit_cast<uint32_t>(b.f32[j]));
      for (size_t j = 0; j < a.i32.size(); ++j) a.i32[j] |= b.i32[j];
      if (a.name == "scalars") {
        if (a.u64.size() != b.u64.size() || a.u64.empty() || a.u64[0] != b.u64[0]) return differ("the tick");
        for (size_t j = 1; j < a.u64.size(); ++j) a.u64[j] += b.u64[j];
      } else if (a.name == "arrivals") {
        if (a.u64.size() % 3 || b.u64.size() % 3) return differ("arrivals");
        using Triple = std::array<uint64_t, 3>;
        std::vector<Triple> set;
        for (const std::vector<uint64_t>* v : {static_cast<const std::vector<uint64_t>*>(&a.u64), &b.u64})
          for (size_t j = 0; j < v->size(); j += 3) set.push_back(Triple{(*v)[j], (*v)[j + 1], (*v)[j + 2]});
        std::sort(set.begin(), set.end());
        set.erase(std::unique(set.begin(), set.end()), set.end());
        a.u64.clear();
        for (const Triple& t : set) a.u64.insert(a.u64.end(), t.begin(), t.end());
      } else if (a.u64 != b.u64) {
        return differ("array " + a.name);
      }
    }
  }
  flatbuffers::FlatBufferBuilder b(parts[0].size() + (1 << 16), &BufferAllocator());
  b.Finish(schema::RegionState::Pack(b, &out), schema::RegionStateIdentifier());
  return CopyToFreshBytes({b.GetBufferPointer(), b.GetSize()});
}

}  // namespace thalia::kernel
