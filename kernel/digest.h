// The 64-bit state digest: a fixed-byte-order hash of canonical field values (never of
// FlatBuffers bytes, whose encoding of one value is not unique).
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace thalia::kernel {

class Hasher {
 public:
  void U64(uint64_t v) { h_ = Step(h_, v); }
  void Str(std::string_view s) {
    U64(s.size());
    for (unsigned char c : s) U64(c);
  }
  // Float arrays hash their bit patterns, in index order, 2 per 64-bit word.
  void Floats(std::span<const float> a) { Words32(a.data(), a.size()); }
  void Ints(std::span<const int32_t> a) { Words32(a.data(), a.size()); }
  void U64s(std::span<const uint64_t> a) {
    U64(a.size());
    for (uint64_t v : a) U64(v);
  }
  uint64_t Final() const { return Step(h_, 0x5bd1e9955bd1e995ull); }

 private:
  static uint64_t Step(uint64_t h, uint64_t v) {
    v *= 0x87c37b91114253d5ull;
    v = (v << 31) | (v >> 33);
    v *= 0x4cf5ad432745937full;
    h ^= v;
    h = ((h << 27) | (h >> 37)) * 5 + 0x52dce729;
    return h;
  }
  void Words32(const void* p, size_t n) {
    U64(n);
    const auto* b = static_cast<const unsigned char*>(p);
    size_t i = 0;
    // Four independent lanes keep the multiply chains short; combined in a fixed order.
    uint64_t l[4] = {h_, h_ ^ 1, h_ ^ 2, h_ ^ 3};
    for (; i + 8 <= n; i += 8) {
      for (int k = 0; k < 4; ++k) {
        uint64_t w;
        std::memcpy(&w, b + (i + 2 * k) * 4, 8);
        l[k] = Step(l[k], w);
      }
    }
    h_ = Step(Step(Step(Step(h_, l[0]), l[1]), l[2]), l[3]);
    for (; i < n; ++i) {
      uint32_t w;
      std::memcpy(&w, b + i * 4, 4);
      U64(w);
    }
  }
  uint64_t h_ = 0x736f6d6570736575ull;
};

// The split-invariant part of the digest. An array is hashed as the sum (mod 2^64) of a bijective
// mix of (index, element bits) over its elements, so any contiguous part of it can be summed on
// its own (by a shard, a thread or another process) and the parts added in any order: the result
// does not depend on how, or whether, the array was split. One changed element changes the sum
// unless two mixed values happen to cancel (probability about 2^-64).
inline uint64_t MixElement(uint64_t index, uint32_t bits) {
  uint64_t x = (index << 32) ^ bits;  // index < 2^32: injective
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 32;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 29;
  return x;
}

// The sum of MixElement over a part of a 32-bit array whose first element has global index
// `first` (kernel/digest.cc: the elements are independent, so it runs in vector lanes; integer
// arithmetic, so every clone gives the same sum). Per-epoch digests sum every neuron array.
uint64_t IndexedSum(const void* data, size_t n, uint64_t first);

// One synapse of a per-synapse array, keyed by what identifies it in every storage order and
// every split: its source and target neurons (within their regions) and its value.
inline uint64_t MixSynapse(uint32_t source, uint32_t target, uint32_t bits) {
  uint64_t x = ((uint64_t{source} << 32) | target) * 0x9e3779b97f4a7c15ull;
  x ^= x >> 32;
  x += uint64_t{bits} * 0xd6e8feb86659fd93ull;
  x ^= x >> 29;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 32;
  return x;
}

// A region's digest before its final hash, as one part of the region computes it: one entry per
// state field, in visiting order. A region split over processes is digested by combining its
// parts' entries (CombineDigestParts), which gives exactly the digest of the unsplit region.
struct DigestPart {
  enum Kind : uint8_t {
    kSum = 0,       // an array: `length` is the whole array's, `value` this part's IndexedSum
    kList = 1,      // a list every part holds whole (e.g. the queued arrivals): `value` its hash
    kSet = 2,       // a multiset (synapses, queued arrivals): this part's count and sum of mixes
    kCounters = 3,  // a list of counters: `words`[0] is the tick (alike), the rest add up
  };
  struct Entry {
    Kind kind = kSum;
    uint64_t name = 0;  // hash of the field's name
    uint64_t length = 0;
    uint64_t value = 0;
    std::vector<uint64_t> words;  // kCounters only
  };
  std::vector<Entry> entries;
};

inline uint64_t HashName(std::string_view name) {
  Hasher h;
  h.Str(name);
  return h.Final();
}

inline uint64_t HashList(std::span<const uint64_t> list) {
  Hasher h;
  h.U64s(list);
  return h.Final();
}

// One queued arrival (tick, then its key's words), for the multiset hash of a delay queue.
inline uint64_t MixArrival(uint64_t tick, uint64_t key, uint64_t group) {
  uint64_t x = (key ^ (tick * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
  x ^= x >> 31;
  x += group * 0x94d049bb133111ebull;
  x ^= x >> 29;
  x *= 0xd6e8feb86659fd93ull;
  x ^= x >> 32;
  return x;
}

// Combines per-region digests (in region id order) into the one `digest` a run prints.
inline uint64_t CombineDigests(std::span<const uint64_t> per_region) {
  Hasher h;
  h.U64s(per_region);
  return h.Final();
}

// A DigestPart as words, for messages: per entry kind, name, length, value, word count, words.
inline void DigestPartToWords(const DigestPart& p, std::vector<uint64_t>* out) {
  for (const DigestPart::Entry& e : p.entries) {
    out->insert(out->end(), {uint64_t{e.kind}, e.name, e.length, e.value, e.words.size()});
    out->insert(out->end(), e.words.begin(), e.words.end());
  }
}

// Reads DigestPartToWords' words back; false if they are malformed.
inline bool DigestPartFromWords(std::span<const uint64_t> w, DigestPart* out) {
  out->entries.clear();
  size_t i = 0;
  while (i < w.size()) {
    if (w.size() - i < 5 || w[i] > DigestPart::kCounters || w[i + 4] > w.size() - i - 5) return false;
    DigestPart::Entry e{static_cast<DigestPart::Kind>(w[i]), w[i + 1], w[i + 2], w[i + 3], {}};
    e.words.assign(w.begin() + static_cast<std::ptrdiff_t>(i + 5),
                   w.begin() + static_cast<std::ptrdiff_t>(i + 5 + w[i + 4]));
    i += 5 + w[i + 4];
    out->entries.push_back(std::move(e));
  }
  return true;
}

// The digest of a region from the entries of its parts (any order of parts: kSum, kSet and
// counters add; a kList is every part's alike). Returns false, leaving `out` alone, if the parts
// do not describe one region state (different fields, or lists that differ).
inline bool CombineDigestParts(std::span<const DigestPart> parts, uint64_t* out) {
  if (parts.empty()) return false;
  const size_t n = parts[0].entries.size();
  for (const DigestPart& p : parts)
    if (p.entries.size() != n) return false;
  Hasher h;
  for (size_t i = 0; i < n; ++i) {
    DigestPart::Entry e = parts[0].entries[i];
    for (size_t k = 1; k < parts.size(); ++k) {
      const DigestPart::Entry& o = parts[k].entries[i];
      if (o.kind != e.kind || o.name != e.name) return false;
      switch (e.kind) {
        case DigestPart::kSum:
          if (o.length != e.length) return false;
          e.value += o.value;
          break;
        case DigestPart::kList:
          if (o.length != e.length || o.value != e.value) return false;
          break;
        case DigestPart::kSet:
          e.length += o.length;
          e.value += o.value;
          break;
        case DigestPart::kCounters:
          if (o.words.size() != e.words.size() || (!e.words.empty() && o.words[0] != e.words[0]))
            return false;
          for (size_t j = 1; j < e.words.size(); ++j) e.words[j] += o.words[j];
          break;
      }
    }
    h.U64(e.kind);
    h.U64(e.name);
    if (e.kind == DigestPart::kCounters) {
      h.U64s(e.words);
    } else {
      h.U64(e.length);
      h.U64(e.value);
    }
  }
  *out = h.Final();
  return true;
}

}  // namespace thalia::kernel
