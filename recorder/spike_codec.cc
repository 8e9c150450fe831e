// The spike bit stream of a Batch (format version 2; recorder/trace_format.md, "Spikes"). A
// region's spikes in an epoch are increasing positions, tick-major, in the epoch's tick x neuron
// grid; their gaps are close to geometric, which a Rice code packs to about a tenth of a bit
// above their entropy (CUBA: 12.4 bits per spike; version 1's varints and zstd took 15.0).
#include "recorder/trace_records.h"  // declares what this file defines

#include <algorithm>
#include <bit>
#include <string>

namespace thalia::recorder {
using kernel::NeuronId;
using kernel::Spike;

namespace {

Status Bad(const std::string& what) { return Status::Corrupt("bad record: " + what); }

// Positions in an epoch of `ticks` ticks of a region of `size` neurons; false if that overflows.
bool GridSize(Tick ticks, uint32_t size, uint64_t* positions) {
  if (size != 0 && ticks > UINT64_MAX / size) return false;
  *positions = ticks * size;
  return true;
}

}  // namespace

int RiceParameter(uint64_t positions, uint32_t count) {
  if (count == 0 || positions <= count) return 0;
  // A geometric gap of mean g is coded best with 2^k near g ln 2 (0.6875 = 11/16 here).
  const uint64_t g = (positions - count) / count;
  const uint64_t scaled = g - g / 4 - g / 16;
  return scaled < 2 ? 0 : std::bit_width(scaled) - 1;
}

SpikeBitWriter::SpikeBitWriter(std::vector<uint8_t>* out) : out_(out) {}

void SpikeBitWriter::Put(uint64_t v, int bits) {
  // bits <= 32 and fewer than 32 bits pending: the accumulator never overflows.
  acc_ |= (v & ((uint64_t{1} << bits) - 1)) << pending_;
  pending_ += bits;
  if (pending_ >= 32) {
    const uint8_t word[4] = {static_cast<uint8_t>(acc_), static_cast<uint8_t>(acc_ >> 8),
                             static_cast<uint8_t>(acc_ >> 16), static_cast<uint8_t>(acc_ >> 24)};
    out_->insert(out_->end(), word, word + 4);
    acc_ >>= 32;
    pending_ -= 32;
  }
}

void SpikeBitWriter::Add(std::span<const Spike> spikes, Tick t0, Tick t1, uint32_t region_size) {
  uint64_t positions = 0;
  THALIA_CHECK(GridSize(t1 - t0, region_size, &positions));
  const int k = RiceParameter(positions, static_cast<uint32_t>(spikes.size()));
  uint64_t next = 0;  // the smallest position the next spike may take
  for (const Spike& s : spikes) {
    // The kernel hands over spikes in canonical order inside the epoch and region; anything else
    // would code as a gap of ~2^64 ones.
    THALIA_CHECK(s.tick >= t0 && s.tick < t1 && s.neuron < region_size);
    const uint64_t p = (s.tick - t0) * region_size + s.neuron;
    THALIA_CHECK(p >= next);
    const uint64_t gap = p - next;
    uint64_t q = gap >> k;  // in unary: q one bits, then a zero
    for (; q >= 31; q -= 31) Put(0x7fffffff, 31);
    Put((uint64_t{1} << q) - 1, static_cast<int>(q) + 1);
    if (k > 32) {
      Put(gap, 32);
      Put(gap >> 32, k - 32);
    } else {
      Put(gap, k);
    }
    next = p + 1;
  }
}

void SpikeBitWriter::Finish() {
  for (; pending_ > 0; pending_ -= 8) {
    out_->push_back(static_cast<uint8_t>(acc_));
    acc_ >>= 8;
  }
  acc_ = 0;
  pending_ = 0;
}

SpikeBitReader::SpikeBitReader(std::span<const uint8_t> bits) : bits_(bits), size_(bits.size() * 8) {}

uint64_t SpikeBitReader::Peek() const {
  const size_t byte = pos_ >> 3;
  const size_t n = std::min<size_t>(8, bits_.size() - byte);
  uint64_t w = 0;
  for (size_t i = 0; i < n; ++i) w |= uint64_t{bits_[byte + i]} << (8 * i);
  return w >> (pos_ & 7);
}

bool SpikeBitReader::Get(int bits, uint64_t* v) {
  if (static_cast<uint64_t>(bits) > size_ - pos_) return false;
  if (bits > 56) {
    const uint64_t low = Peek() & 0xffffffff;
    pos_ += 32;
    *v = low | (Peek() & ((uint64_t{1} << (bits - 32)) - 1)) << 32;
    pos_ += static_cast<uint64_t>(bits - 32);
    return true;
  }
  *v = Peek() & ((uint64_t{1} << bits) - 1);
  pos_ += static_cast<uint64_t>(bits);
  return true;
}

Status SpikeBitReader::Read(uint32_t count, Tick t0, Tick t1, uint32_t region_size,
                            std::vector<Spike>* out) {
  out->clear();
  uint64_t positions = 0;
  if (t1 <= t0 || !GridSize(t1 - t0, region_size, &positions)) return Bad("epoch too long for its region");
  // Each spike takes at least one bit, and one position: bounds the allocation.
  if (count > size_ - pos_ || count > positions) return Bad("spike count exceeds its stream");
  out->reserve(count);
  const int k = RiceParameter(positions, count);
  uint64_t next = 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t q = 0, low = 0;
    // The quotient can never make a gap past the grid: stops a run of ones early.
    const uint64_t max_q = (positions - next) >> k;
    while (true) {
      if (pos_ >= size_) return Bad("spike stream cut short");
      // Up to 56 bits at a time; bits past the stream's end read as zero, so `ones` stops there.
      const uint64_t avail = std::min<uint64_t>(56, size_ - pos_);
      const uint64_t ones = std::min<uint64_t>(static_cast<uint64_t>(std::countr_one(Peek())), avail);
      q += ones;
      pos_ += ones;
      if (q > max_q) return Bad("spike outside the epoch or region");
      if (ones < avail) {
        ++pos_;  // the zero that ends the run
        break;
      }
    }
    if (!Get(k, &low)) return Bad("spike stream cut short");
    const uint64_t gap = (q << k) | low;
    if (gap >= positions - next) return Bad("spike outside the epoch or region");
    const uint64_t p = next + gap;
    out->push_back({t0 + p / region_size, static_cast<NeuronId>(p % region_size)});
    next = p + 1;
  }
  return Status::Ok();
}

Status SpikeBitReader::Finish() const {
  // One encoding per value: the stream ends in its last byte, padded with zero bits.
  if ((pos_ + 7) / 8 != bits_.size()) return Bad("spike stream longer than its counts");
  if (pos_ % 8 != 0 && (bits_.back() >> (pos_ % 8)) != 0) return Bad("spike stream padding not zero");
  return Status::Ok();
}

}  // namespace thalia::recorder
