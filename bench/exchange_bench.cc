// The spike exchange between MPI ranks, star against direct (issue 17), side by side in one run:
// per-epoch exchange time and bytes per rank for 2, 4 and 8 worker ranks with
//   star        every worker sends its epoch's spikes to a coordinator rank, which sends each
//               worker its inbound batch (the spikes of the other workers it needs): today's
//               design of the MPI executor;
//   direct p2p  each worker MPI_Isend's its spikes to each worker that needs them (one message
//               each, possibly empty), MPI_Irecv's from each worker whose spikes it needs,
//               MPI_Waitall;
//   alltoallv   MPI_Alltoall of the byte counts, then MPI_Alltoallv among the workers (zero
//               bytes to a worker that needs none);
//   allgatherv  MPI_Allgather of the byte counts, then MPI_Allgatherv: every worker gets every
//               spike, whether it needs it or not.
// Who needs what: with --need F each worker's spikes are needed on d = ceil(F (W - 1)) of the
// other workers (the next d in a ring), all of them; F = 1 is a brain where every rank has
// targets for every spike, smaller F a sparse one where the pattern is known in advance.
// One launch of 9 ranks measures every rank count through sub-communicators (world rank 0 is the
// coordinator, ranks 1..W the workers); modes, rank counts and loads are interleaved over rounds
// so that drift on a shared machine hits them alike, and ranks outside the measured group sleep
// between polls so they leave the cores to it. A ping-pong sweep of message sizes between two
// ranks gives the per-message cost alpha and the per-byte cost beta (least squares), and from
// them the program prints a model on paper of the time per epoch at 64, 256 and 1,024 ranks
// (bench/RESULTS.md, "MPI spike exchange: star against direct (issue 17)"). Usage:
//   mpirun --oversubscribe --mca mpi_yield_when_idle 1 -np 9 exchange_bench [options]  (--help)
//   exchange_bench --model-only --alpha-us A --beta-ns B   (the model alone, for given costs)
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace {

// A spike as it travels between ranks: 16 bytes, as kernel::Spike is laid out (tick, neuron,
// padding).
struct WireSpike {
  uint64_t tick;
  uint32_t neuron;
  uint32_t pad;
};
static_assert(sizeof(WireSpike) == 16);
constexpr int kSpikeBytes = static_cast<int>(sizeof(WireSpike));

enum Mode { kStar, kDirect, kAlltoallv, kAllgatherv, kModes };
const char* const kModeName[kModes] = {"star", "direct p2p", "alltoallv", "allgatherv"};

struct Load {
  double neurons;  // per worker rank
  double hz;       // mean rate
};

struct Options {
  std::vector<int> ranks = {2, 4, 8};
  std::vector<Load> loads = {{12500, 10}, {12500, 40}, {1000000, 10}};
  double epoch_ms = 1.5;
  // fractions of the other workers needing a worker's spikes
  std::vector<double> needs = {1.0, 0.25};
  int epochs = 1000;  // measured epochs per configuration, over all rounds
  int rounds = 10;
  int warmup = 5;  // epochs before each round's measured ones
  int pingpong_reps = 400;
  bool model_only = false;
  double alpha_us = -1, beta_ns = -1;  // costs for --model-only (else measured)
  double model_neurons = 1e6, model_hz = 10;
  int model_sparse_peers = 16;
};

void Usage(FILE* f) {
  std::fprintf(
      f,
      "usage: mpirun -np 9 exchange_bench [options]\n"
      "       exchange_bench --model-only --alpha-us A --beta-ns B [model options]\n"
      "Measures the per-epoch spike exchange among worker ranks: star (through world rank 0),\n"
      "direct point-to-point, MPI_Alltoallv and MPI_Allgatherv, for each worker count W in\n"
      "--ranks (ranks 1..W are the workers; needs 1 + max(W) ranks), interleaved over rounds.\n"
      "Then a ping-pong sweep between ranks 1 and 2 fits alpha (per message) and beta (per\n"
      "byte), and a model of the time per epoch at 64, 256 and 1024 ranks is printed.\n"
      "Options:\n"
      "  --ranks LIST        worker counts, e.g. 2,4,8 (default)\n"
      "  --loads LIST        loads NEURONS:HZ per worker rank (default "
      "12500:10,12500:40,1000000:10);\n"
      "                      spikes per epoch = neurons x Hz x epoch, varied +-20%% per rank and "
      "epoch\n"
      "  --epoch-ms X        epoch length, the minimum delay (default 1.5)\n"
      "  --need LIST         fractions F of the other workers that need a worker's spikes: each\n"
      "                      worker's spikes go to the next ceil(F (W-1)) workers (default "
      "1,0.25)\n"
      "  --epochs N          measured epochs per configuration, over all rounds (default 1000)\n"
      "  --rounds N          rounds the configurations are interleaved over (default 10)\n"
      "  --warmup N          unmeasured epochs before each round of a configuration (default 5)\n"
      "  --pingpong-reps N   round trips per message size (default 400; fewer for large sizes)\n"
      "  --model-neurons N   neurons per rank in the model (default 1000000)\n"
      "  --model-hz X        rate in the model (default 10)\n"
      "  --model-sparse-peers D  ranks needing each rank's spikes in the sparse case (default 16)\n"
      "  --model-only        print only the model, for --alpha-us A and --beta-ns B\n"
      "  --alpha-us A        per-message cost, microseconds (with --model-only)\n"
      "  --beta-ns B         per-byte cost, nanoseconds (with --model-only)\n"
      "Times are the slowest rank's per epoch (each epoch starts at a barrier); median and p90.\n"
      "On one machine (bench/RESULTS.md): mpirun --oversubscribe --mca btl self,vader\n"
      "--mca mpi_yield_when_idle 1 -np 9 exchange_bench; without mpi_yield_when_idle OpenMPI's\n"
      "waiting ranks spin, and with more ranks than cores the run all but stalls.\n");
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) return out;
    start = p + 1;
  }
}

bool ParseOptions(int argc, char** argv, Options* o, bool* help) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](const char** v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    const char* v = nullptr;
    if (a == "--help" || a == "-h") {
      *help = true;
    } else if (a == "--model-only") {
      o->model_only = true;
    } else if (a == "--ranks" && next(&v)) {
      o->ranks.clear();
      for (const auto& t : Split(v, ',')) o->ranks.push_back(std::atoi(t.c_str()));
    } else if (a == "--loads" && next(&v)) {
      o->loads.clear();
      for (const auto& t : Split(v, ',')) {
        auto nh = Split(t, ':');
        if (nh.size() != 2) return false;
        o->loads.push_back({std::atof(nh[0].c_str()), std::atof(nh[1].c_str())});
      }
    } else if (a == "--epoch-ms" && next(&v)) {
      o->epoch_ms = std::atof(v);
    } else if (a == "--need" && next(&v)) {
      o->needs.clear();
      for (const auto& t : Split(v, ',')) o->needs.push_back(std::atof(t.c_str()));
    } else if (a == "--epochs" && next(&v)) {
      o->epochs = std::atoi(v);
    } else if (a == "--rounds" && next(&v)) {
      o->rounds = std::atoi(v);
    } else if (a == "--warmup" && next(&v)) {
      o->warmup = std::atoi(v);
    } else if (a == "--pingpong-reps" && next(&v)) {
      o->pingpong_reps = std::atoi(v);
    } else if (a == "--model-neurons" && next(&v)) {
      o->model_neurons = std::atof(v);
    } else if (a == "--model-hz" && next(&v)) {
      o->model_hz = std::atof(v);
    } else if (a == "--model-sparse-peers" && next(&v)) {
      o->model_sparse_peers = std::atoi(v);
    } else if (a == "--alpha-us" && next(&v)) {
      o->alpha_us = std::atof(v);
    } else if (a == "--beta-ns" && next(&v)) {
      o->beta_ns = std::atof(v);
    } else {
      return false;
    }
  }
  if (o->ranks.empty() || o->loads.empty() || o->needs.empty() || o->rounds < 1 ||
      o->epochs < o->rounds || o->epoch_ms <= 0)
    return false;
  for (double f : o->needs)
    if (!(f > 0 && f <= 1)) return false;
  for (int w : o->ranks)
    if (w < 2) return false;
  if (o->model_only && (o->alpha_us < 0 || o->beta_ns < 0)) return false;
  return true;
}

// Waits for `r` sleeping between polls, so that a rank that waits leaves the core to the others.
void SleepyWait(MPI_Request* r) {
  int done = 0;
  while (true) {
    MPI_Test(r, &done, MPI_STATUS_IGNORE);
    if (done) return;
    timespec ts{0, 200000};
    nanosleep(&ts, nullptr);
  }
}

// Every rank meets every other here, the ones that waited sleeping.
void SleepyBarrier(MPI_Comm comm) {
  MPI_Request r;
  MPI_Ibarrier(comm, &r);
  SleepyWait(&r);
}

// Spikes worker `w` (1-based world rank) emits in `epoch`: the mean, varied +-20% by a hash.
int SpikeCount(double mean, int w, uint64_t epoch) {
  uint64_t x = (static_cast<uint64_t>(w) << 40) ^ (epoch * 0x9E3779B97F4A7C15ull);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  double u = static_cast<double>(x >> 11) / 9007199254740992.0;
  return static_cast<int>(std::lround(mean * (0.8 + 0.4 * u)));
}

// How many of the other W - 1 workers need each worker's spikes, for the fraction `need`.
int PeersNeeding(int workers, double need) {
  return std::clamp(static_cast<int>(std::ceil(need * (workers - 1) - 1e-9)), 1, workers - 1);
}
// Whether worker `to` needs the spikes of worker `from` (0-based among W): `to` is one of the
// next d after `from` in the ring.
bool Needs(int to, int from, int workers, int d) {
  int ahead = ((to - from) % workers + workers) % workers;
  return ahead >= 1 && ahead <= d;
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::floor(q * static_cast<double>(v.size() - 1) + 0.5));
  return v[std::min(i, v.size() - 1)];
}

// Least squares t = a + b * x.
void Fit(const std::vector<double>& x, const std::vector<double>& t, double* a, double* b) {
  double n = static_cast<double>(x.size()), sx = 0, st = 0, sxx = 0, sxt = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    st += t[i];
    sxx += x[i] * x[i];
    sxt += x[i] * t[i];
  }
  double d = n * sxx - sx * sx;
  *b = d == 0 ? 0 : (n * sxt - sx * st) / d;
  *a = (st - *b * sx) / n;
}

struct Counters {
  double sent = 0, received = 0, messages = 0;  // bytes and messages over the measured epochs
};

// One rank's buffers for one configuration.
struct Buffers {
  std::vector<WireSpike> own;                // this worker's spikes
  std::vector<WireSpike> in;                 // inbound: capacity for every peer's spikes
  std::vector<std::vector<WireSpike>> up;    // coordinator: each worker's spikes
  std::vector<std::vector<WireSpike>> down;  // coordinator: each worker's inbound batch
  std::vector<int> scount, rcount, rdispl, sdispl;
  std::vector<MPI_Request> req;
  std::vector<MPI_Status> st;
};

constexpr int kTagUp = 1, kTagDown = 2, kTagP2p = 3;

// One epoch of `mode` among `workers` worker ranks, on the calling rank; returns false if what
// arrived is not what was sent (then the results mean nothing). `comm` is the star's group
// (coordinator rank 0, workers 1..W) for kStar, else the workers' own (ranks 0..W-1).
bool Epoch(Mode mode, MPI_Comm comm, int workers, double mean, int d, uint64_t epoch, int cap,
           Buffers& b, Counters* c) {
  int me;
  MPI_Comm_rank(comm, &me);
  if (mode == kStar) {
    if (me == 0) {  // the coordinator: receive every worker's spikes, then send each its batch
      for (int i = 0; i < workers; ++i) {
        MPI_Status s;
        MPI_Probe(MPI_ANY_SOURCE, kTagUp, comm, &s);
        int bytes;
        MPI_Get_count(&s, MPI_BYTE, &bytes);
        auto& u = b.up[static_cast<size_t>(s.MPI_SOURCE - 1)];
        u.resize(static_cast<size_t>(bytes / kSpikeBytes));
        MPI_Recv(u.data(), bytes, MPI_BYTE, s.MPI_SOURCE, kTagUp, comm, MPI_STATUS_IGNORE);
        c->received += bytes;
        c->messages += 1;
      }
      for (int w = 1; w <= workers; ++w) {
        auto& down = b.down[static_cast<size_t>(w - 1)];
        down.clear();
        for (int v = 1; v <= workers; ++v) {
          if (!Needs(w - 1, v - 1, workers, d)) continue;
          const auto& u = b.up[static_cast<size_t>(v - 1)];
          down.insert(down.end(), u.begin(), u.end());
        }
        int bytes = static_cast<int>(down.size()) * kSpikeBytes;
        MPI_Isend(down.data(), bytes, MPI_BYTE, w, kTagDown, comm,
                  &b.req[static_cast<size_t>(w - 1)]);
        c->sent += bytes;
        c->messages += 1;
      }
      MPI_Waitall(workers, b.req.data(), MPI_STATUSES_IGNORE);
      return true;
    }
    int n = SpikeCount(mean, me, epoch);
    MPI_Send(b.own.data(), n * kSpikeBytes, MPI_BYTE, 0, kTagUp, comm);
    MPI_Status s;
    MPI_Probe(0, kTagDown, comm, &s);
    int bytes;
    MPI_Get_count(&s, MPI_BYTE, &bytes);
    MPI_Recv(b.in.data(), bytes, MPI_BYTE, 0, kTagDown, comm, MPI_STATUS_IGNORE);
    c->sent += n * kSpikeBytes;
    c->received += bytes;
    c->messages += 2;
    int want = 0;
    for (int v = 1; v <= workers; ++v)
      if (Needs(me - 1, v - 1, workers, d)) want += SpikeCount(mean, v, epoch);
    return bytes == want * kSpikeBytes;
  }

  const int w = me + 1;  // the worker's world rank (its number in SpikeCount)
  const int n = SpikeCount(mean, w, epoch);
  bool ok = true;
  if (mode == kDirect) {
    size_t r = 0;
    for (int p = 0; p < workers; ++p) {
      if (!Needs(me, p, workers, d)) continue;
      MPI_Irecv(b.in.data() + static_cast<size_t>(p) * static_cast<size_t>(cap), cap * kSpikeBytes,
                MPI_BYTE, p, kTagP2p, comm, &b.req[r++]);
    }
    for (int p = 0; p < workers; ++p) {
      if (!Needs(p, me, workers, d)) continue;
      MPI_Isend(b.own.data(), n * kSpikeBytes, MPI_BYTE, p, kTagP2p, comm, &b.req[r++]);
    }
    MPI_Waitall(static_cast<int>(r), b.req.data(), b.st.data());
    size_t i = 0;
    for (int p = 0; p < workers; ++p) {
      if (!Needs(me, p, workers, d)) continue;
      int bytes;
      MPI_Get_count(&b.st[i++], MPI_BYTE, &bytes);
      c->received += bytes;
      ok = ok && bytes == SpikeCount(mean, p + 1, epoch) * kSpikeBytes;
    }
    c->sent += static_cast<double>(n) * kSpikeBytes * d;
    c->messages += 2.0 * d;
    return ok;
  }
  if (mode == kAlltoallv) {
    for (int p = 0; p < workers; ++p) {
      b.scount[static_cast<size_t>(p)] = Needs(p, me, workers, d) ? n * kSpikeBytes : 0;
      b.sdispl[static_cast<size_t>(p)] = 0;  // every peer gets the same slice: regions may overlap
    }
    MPI_Alltoall(b.scount.data(), 1, MPI_INT, b.rcount.data(), 1, MPI_INT, comm);
    int total = 0;
    for (int p = 0; p < workers; ++p) {
      b.rdispl[static_cast<size_t>(p)] = total;
      total += b.rcount[static_cast<size_t>(p)];
    }
    MPI_Alltoallv(b.own.data(), b.scount.data(), b.sdispl.data(), MPI_BYTE, b.in.data(),
                  b.rcount.data(), b.rdispl.data(), MPI_BYTE, comm);
    c->sent += static_cast<double>(n) * kSpikeBytes * d + 4.0 * workers;
    c->received += total + 4.0 * workers;
    int want = 0;
    for (int p = 0; p < workers; ++p)
      if (Needs(me, p, workers, d)) want += SpikeCount(mean, p + 1, epoch);
    return total == want * kSpikeBytes;
  }
  // allgatherv: everything to everyone; a receiver would drop what it has no targets for
  int mine = n * kSpikeBytes;
  MPI_Allgather(&mine, 1, MPI_INT, b.rcount.data(), 1, MPI_INT, comm);
  int total = 0;
  for (int p = 0; p < workers; ++p) {
    b.rdispl[static_cast<size_t>(p)] = total;
    total += b.rcount[static_cast<size_t>(p)];
  }
  MPI_Allgatherv(b.own.data(), mine, MPI_BYTE, b.in.data(), b.rcount.data(), b.rdispl.data(),
                 MPI_BYTE, comm);
  c->sent += static_cast<double>(mine) + 4.0;
  c->received += total - mine + 4.0 * (workers - 1);
  int want = 0;
  for (int p = 0; p < workers; ++p) want += SpikeCount(mean, p + 1, epoch) * kSpikeBytes;
  return total == want;
}

// ---- the model on paper ----------------------------------------------------------------------

struct ModelCase {
  const char* name;
  int peers;  // ranks that need each rank's spikes (P - 1: all)
};

// Seconds per epoch of each design at P ranks, b bytes per rank per epoch, d ranks needing each
// rank's spikes, for per-message cost a (s) and per-byte cost be (s/B). Algorithms assumed:
//   star        the coordinator receives P messages (P b bytes) and sends P batches of d b bytes,
//               one after the other: 2 P a + be (P b + P d b);
//   direct p2p  each rank sends d messages of b bytes and receives d, overlapped (full duplex):
//               d a + be d b (a rank with no targets gets no message: the pattern is known);
//   alltoallv   counts by Bruck's alltoall (log2 P steps), data by pairwise exchange (P - 1
//               steps): (log2 P + P - 1) a + be d b;
//   allgatherv  counts and data by recursive doubling: 2 log2 P a + be (P - 1) b, whatever d.
void Model(double a, double be, double b, int P, int d, double out[kModes]) {
  double lg = std::ceil(std::log2(static_cast<double>(P)));
  out[kStar] = 2.0 * P * a + be * (P * b + static_cast<double>(P) * d * b);
  out[kDirect] = d * a + be * d * b;
  out[kAlltoallv] = (lg + P - 1) * a + be * d * b;
  out[kAllgatherv] = 2 * lg * a + be * (P - 1) * b;
}

void PrintModel(const Options& o, double alpha_s, double beta_s, const char* label) {
  const double spikes = o.model_neurons * o.model_hz * o.epoch_ms * 1e-3;
  const double b = spikes * kSpikeBytes;
  std::printf(
      "\nModel on paper (%s: alpha %.3g us, beta %.4g ns/byte = %.3g GB/s): %.0f neurons/rank at "
      "%.0f Hz,\n"
      "%.2f ms epochs = %.0f spikes = %.0f KB per rank per epoch; ms per epoch (x real time = / "
      "%.2f ms)\n",
      label, alpha_s * 1e6, beta_s * 1e9, 1e-9 / beta_s, o.model_neurons, o.model_hz, o.epoch_ms,
      spikes, b / 1e3, o.epoch_ms);
  const ModelCase cases[] = {{"dense: every rank needs every spike", -1},
                             {"sparse: each rank's spikes needed on", o.model_sparse_peers}};
  for (const auto& mc : cases) {
    if (mc.peers < 0)
      std::printf("  %s\n", mc.name);
    else
      std::printf("  %s %d ranks\n", mc.name, mc.peers);
    std::printf("  %6s %12s %12s %12s %12s %10s %10s\n", "ranks", "star", "direct p2p", "alltoallv",
                "allgatherv", "p2p/star", "best");
    for (int P : {64, 256, 1024}) {
      int d = mc.peers < 0 ? P - 1 : std::min(P - 1, mc.peers);
      double t[kModes];
      Model(alpha_s, beta_s, b, P, d, t);
      int best = 1;
      for (int m = 1; m < kModes; ++m)
        if (t[m] < t[best]) best = m;
      std::printf("  %6d %12.3f %12.3f %12.3f %12.3f %10.4f %10s\n", P, t[kStar] * 1e3,
                  t[kDirect] * 1e3, t[kAlltoallv] * 1e3, t[kAllgatherv] * 1e3,
                  t[kDirect] / t[kStar], kModeName[best]);
    }
  }
}

// ---- ping-pong -----------------------------------------------------------------------------

// Half round trips between world ranks 1 and 2 (the others sleep); median per size, at rank 1.
std::vector<double> PingPong(const std::vector<int>& sizes, int reps_small, int world_rank) {
  std::vector<double> half(sizes.size(), 0);
  std::vector<char> buf(static_cast<size_t>(sizes.back()) + 1);
  for (size_t i = 0; i < sizes.size(); ++i) {
    SleepyBarrier(MPI_COMM_WORLD);
    if (world_rank != 1 && world_rank != 2) continue;
    int s = sizes[i];
    int reps = std::max(20, std::min(reps_small, static_cast<int>(2e8 / (s + 1e4) / 10)));
    std::vector<double> t;
    for (int r = 0; r < reps + 10; ++r) {
      double t0 = MPI_Wtime();
      if (world_rank == 1) {
        MPI_Send(buf.data(), s, MPI_BYTE, 2, 7, MPI_COMM_WORLD);
        MPI_Recv(buf.data(), s, MPI_BYTE, 2, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else {
        MPI_Recv(buf.data(), s, MPI_BYTE, 1, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(buf.data(), s, MPI_BYTE, 1, 7, MPI_COMM_WORLD);
      }
      if (r >= 10) t.push_back((MPI_Wtime() - t0) / 2);
    }
    half[i] = Quantile(t, 0.5);
  }
  return half;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool help = false;
  bool parsed = ParseOptions(argc, argv, &o, &help);
  if (help) {
    Usage(stdout);
    return 0;
  }
  if (!parsed) {
    Usage(stderr);
    return 2;
  }
  if (o.model_only) {
    PrintModel(o, o.alpha_us * 1e-6, o.beta_ns * 1e-9, "given costs");
    return 0;
  }

  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int max_w = *std::max_element(o.ranks.begin(), o.ranks.end());
  if (size < max_w + 1) {
    if (rank == 0)
      std::fprintf(stderr, "exchange_bench: --ranks up to %d needs %d ranks, not %d\n", max_w,
                   max_w + 1, size);
    MPI_Finalize();
    return 2;
  }

  // Sub-communicators: the star's group (world 0..W) and the workers' (world 1..W), for each W.
  // A case is a load and a need: ci = ni * loads + li.
  const int nw = static_cast<int>(o.ranks.size());
  const int nl = static_cast<int>(o.loads.size() * o.needs.size());
  std::vector<MPI_Comm> star(static_cast<size_t>(nw)), direct(static_cast<size_t>(nw));
  for (int i = 0; i < nw; ++i) {
    int W = o.ranks[static_cast<size_t>(i)];
    MPI_Comm_split(MPI_COMM_WORLD, rank <= W ? 0 : MPI_UNDEFINED, rank,
                   &star[static_cast<size_t>(i)]);
    MPI_Comm_split(MPI_COMM_WORLD, rank >= 1 && rank <= W ? 0 : MPI_UNDEFINED, rank,
                   &direct[static_cast<size_t>(i)]);
  }

  const int per_round = o.epochs / o.rounds;
  const int ncfg = nl * nw * kModes;
  // times[(cfg * rounds + round) * per_round + e]: this rank's seconds; reduced by MAX.
  std::vector<double> times(static_cast<size_t>(ncfg) * o.rounds * per_round, 0.0);
  // per config and world rank: bytes sent, received, messages (summed over measured epochs)
  std::vector<double> sent(static_cast<size_t>(ncfg) * size, 0.0), recvd(sent.size(), 0.0),
      msgs(sent.size(), 0.0);
  int bad = 0;

  const double t_start = MPI_Wtime();
  for (int r = 0; r < o.rounds; ++r) {
    for (int li = 0; li < nl; ++li) {
      const Load& L = o.loads[static_cast<size_t>(li) % o.loads.size()];
      const double need = o.needs[static_cast<size_t>(li) / o.loads.size()];
      const double mean = L.neurons * L.hz * o.epoch_ms * 1e-3;
      const int cap = static_cast<int>(std::ceil(mean * 1.2)) + 2;
      for (int wi = 0; wi < nw; ++wi) {
        const int W = o.ranks[static_cast<size_t>(wi)];
        const int d = PeersNeeding(W, need);
        for (int mi = 0; mi < kModes; ++mi) {
          const Mode mode =
              static_cast<Mode>((mi + r + wi) % kModes);  // a different order each time
          const int cfg = (li * nw + wi) * kModes + mode;
          MPI_Comm comm =
              mode == kStar ? star[static_cast<size_t>(wi)] : direct[static_cast<size_t>(wi)];
          SleepyBarrier(MPI_COMM_WORLD);
          if (comm != MPI_COMM_NULL) {
            Buffers b;
            b.own.resize(static_cast<size_t>(cap));
            for (size_t i = 0; i < b.own.size(); ++i)
              b.own[i] = {1000 + i, static_cast<uint32_t>(i * 7), 0};
            b.in.resize(static_cast<size_t>(cap) * static_cast<size_t>(W));
            b.up.resize(static_cast<size_t>(W));
            b.down.resize(static_cast<size_t>(W));
            for (auto& d : b.down) d.reserve(static_cast<size_t>(cap) * static_cast<size_t>(W));
            for (auto& u : b.up) u.reserve(static_cast<size_t>(cap));
            for (auto* v : {&b.scount, &b.rcount, &b.rdispl, &b.sdispl})
              v->assign(static_cast<size_t>(W), 0);
            b.req.resize(static_cast<size_t>(2 * W));
            b.st.resize(static_cast<size_t>(2 * W));
            Counters warm, c;
            for (int e = 0; e < o.warmup + per_round; ++e) {
              const bool measured = e >= o.warmup;
              const uint64_t epoch = static_cast<uint64_t>(r) * 100000u + static_cast<uint64_t>(e);
              MPI_Barrier(comm);
              const double t0 = MPI_Wtime();
              bool ok = Epoch(mode, comm, W, mean, d, epoch, cap, b, measured ? &c : &warm);
              const double t = MPI_Wtime() - t0;
              if (!ok) ++bad;
              if (measured)
                times[(static_cast<size_t>(cfg) * o.rounds + r) * per_round +
                      static_cast<size_t>(e - o.warmup)] = t;
            }
            sent[static_cast<size_t>(cfg) * size + rank] += c.sent;
            recvd[static_cast<size_t>(cfg) * size + rank] += c.received;
            msgs[static_cast<size_t>(cfg) * size + rank] += c.messages;
          }
        }
      }
    }
  }
  const double t_exchange = MPI_Wtime() - t_start;

  // Ping-pong sweep between world ranks 1 and 2.
  const std::vector<int> sizes = {0,      16,     64,      256,     1024,   2048,
                                  4096,   8192,   16384,   32768,   65536,  131072,
                                  262144, 524288, 1048576, 2097152, 4194304};
  std::vector<double> half = PingPong(sizes, o.pingpong_reps, rank);
  if (rank == 1)
    MPI_Send(half.data(), static_cast<int>(half.size()), MPI_DOUBLE, 0, 9, MPI_COMM_WORLD);
  if (rank == 0)
    MPI_Recv(half.data(), static_cast<int>(half.size()), MPI_DOUBLE, 1, 9, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);

  auto reduce = [&](std::vector<double>& v, MPI_Op op) {
    if (rank == 0)
      MPI_Reduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_DOUBLE, op, 0,
                 MPI_COMM_WORLD);
    else
      MPI_Reduce(v.data(), nullptr, static_cast<int>(v.size()), MPI_DOUBLE, op, 0, MPI_COMM_WORLD);
  };
  reduce(times, MPI_MAX);
  reduce(sent, MPI_SUM);
  reduce(recvd, MPI_SUM);
  reduce(msgs, MPI_SUM);
  int all_bad = 0;
  MPI_Reduce(&bad, &all_bad, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);

  if (rank == 0) {
    const double me = static_cast<double>(o.rounds * per_round);  // measured epochs per config
    std::printf(
        "exchange_bench: %d ranks in one launch (rank 0 the star's coordinator, ranks 1..W the "
        "workers);\n"
        "%d measured epochs per configuration in %d interleaved rounds (+%d warm-up each), epoch "
        "%.2f ms,\n"
        "need F: each worker's spikes are needed on ceil(F (W-1)) other workers (allgatherv sends "
        "all);\n"
        "exchange phase took %.1f s; %s\n",
        size, o.rounds * per_round, o.rounds, o.warmup, o.epoch_ms, t_exchange,
        all_bad ? "SOME EPOCHS RECEIVED THE WRONG SIZES: the figures mean nothing"
                : "every epoch received exactly the spikes sent");
    std::vector<double> p2p_w, p2p_t;  // the light load's direct times, for a per-peer fit
    std::vector<double> medians(static_cast<size_t>(ncfg), 0.0);
    for (int li = 0; li < nl; ++li) {
      const Load& L = o.loads[static_cast<size_t>(li) % o.loads.size()];
      const double need = o.needs[static_cast<size_t>(li) / o.loads.size()];
      const double mean = L.neurons * L.hz * o.epoch_ms * 1e-3;
      std::printf(
          "\nLoad %.0f neurons x %.0f Hz x %.2f ms = %.0f spikes (%.1f KB) per worker rank per "
          "epoch;\n"
          "need %.2f: each worker's spikes needed on",
          L.neurons, L.hz, o.epoch_ms, mean, mean * kSpikeBytes / 1e3, need);
      for (int wi = 0; wi < nw; ++wi)
        std::printf("%s %d of %d", wi ? "," : "",
                    PeersNeeding(o.ranks[static_cast<size_t>(wi)], need),
                    o.ranks[static_cast<size_t>(wi)] - 1);
      std::printf(" other workers\n");
      std::printf("  exchange time per epoch, us: median (p90)\n");
      std::printf("  %5s %18s %18s %18s %18s %9s %9s %9s  %s\n", "ranks", "star", "direct p2p",
                  "alltoallv", "allgatherv", "p2p/star", "a2av/star", "agv/star", "fastest");
      for (int wi = 0; wi < nw; ++wi) {
        const int W = o.ranks[static_cast<size_t>(wi)];
        double med[kModes], p90[kModes];
        for (int m = 0; m < kModes; ++m) {
          const int cfg = (li * nw + wi) * kModes + m;
          auto first =
              times.begin() + static_cast<long>(static_cast<size_t>(cfg) * o.rounds * per_round);
          std::vector<double> v(first, first + o.rounds * per_round);
          med[m] = Quantile(v, 0.5) * 1e6;
          medians[static_cast<size_t>(cfg)] = med[m] * 1e-6;
          p90[m] = Quantile(v, 0.9) * 1e6;
        }
        if (li == 0) {
          p2p_w.push_back(PeersNeeding(W, need));
          p2p_t.push_back(med[kDirect]);
        }
        int best = 0;
        for (int m = 1; m < kModes; ++m)
          if (med[m] < med[best]) best = m;
        char cell[kModes][40];
        for (int m = 0; m < kModes; ++m)
          std::snprintf(cell[m], sizeof cell[m], "%.0f (%.0f)", med[m], p90[m]);
        std::printf("  %5d %18s %18s %18s %18s %9.3f %9.3f %9.3f  %s\n", W, cell[0], cell[1],
                    cell[2], cell[3], med[kDirect] / med[kStar], med[kAlltoallv] / med[kStar],
                    med[kAllgatherv] / med[kStar], kModeName[best]);
      }
      std::printf(
          "  KB per epoch: per worker sent / received (mean over workers); the star's "
          "coordinator\n");
      std::printf("  %5s %16s %16s %16s %16s %20s\n", "ranks", "star", "direct p2p", "alltoallv",
                  "allgatherv", "coordinator in/out");
      for (int wi = 0; wi < nw; ++wi) {
        const int W = o.ranks[static_cast<size_t>(wi)];
        char cell[kModes][40];
        double cin = 0, cout = 0;
        for (int m = 0; m < kModes; ++m) {
          const size_t cfg = static_cast<size_t>((li * nw + wi) * kModes + m);
          double s = 0, rv = 0;
          for (int w = 1; w <= W; ++w) {
            s += sent[cfg * size + w];
            rv += recvd[cfg * size + w];
          }
          std::snprintf(cell[m], sizeof cell[m], "%.1f / %.1f", s / W / me / 1e3,
                        rv / W / me / 1e3);
          if (m == kStar) {
            cin = recvd[cfg * size] / me / 1e3;
            cout = sent[cfg * size] / me / 1e3;
          }
        }
        char co[40];
        std::snprintf(co, sizeof co, "%.1f / %.1f", cin, cout);
        std::printf("  %5d %16s %16s %16s %16s %20s\n", W, cell[0], cell[1], cell[2], cell[3], co);
      }
    }

    std::printf("\nPing-pong between ranks 1 and 2 (others asleep), half round trip, median:\n");
    std::vector<double> xs, ts, xl, tl, xa, ta;
    for (size_t i = 0; i < sizes.size(); ++i) {
      std::printf("  %8d bytes %10.2f us %10.3f GB/s\n", sizes[i], half[i] * 1e6,
                  sizes[i] ? sizes[i] / half[i] / 1e9 : 0.0);
      xa.push_back(sizes[i]);
      ta.push_back(half[i]);
      if (sizes[i] <= 4096) {
        xs.push_back(sizes[i]);
        ts.push_back(half[i]);
      }
      if (sizes[i] >= 16384 && sizes[i] <= 1048576) {
        xl.push_back(sizes[i]);
        tl.push_back(half[i]);
      }
    }
    double a_s, b_s, a_l, b_l, a_a, b_a;
    Fit(xs, ts, &a_s, &b_s);
    Fit(xl, tl, &a_l, &b_l);
    Fit(xa, ta, &a_a, &b_a);
    std::printf(
        "Least squares t = alpha + beta x bytes:\n"
        "  sizes <= 4 KB (eager):      alpha %.3f us, beta %.4f ns/byte\n"
        "  16 KB to 1 MB (rendezvous):  alpha %.3f us, beta %.4f ns/byte (%.2f GB/s)\n"
        "  all sizes:                  alpha %.3f us, beta %.4f ns/byte\n"
        "  the model takes alpha from the small sizes and beta from 16 KB to 1 MB (the sizes of\n"
        "  the exchange's messages; past 1 MB the copies through shared memory leave the "
        "caches).\n",
        a_s * 1e6, b_s * 1e9, a_l * 1e6, b_l * 1e9, 1e-9 / b_l, a_a * 1e6, b_a * 1e9);
    if (p2p_w.size() >= 2) {
      double a, b;
      Fit(p2p_w, p2p_t, &a, &b);
      std::printf(
          "Direct p2p at the first load, fitted over the worker counts: %.1f us + %.1f us per "
          "peer\n"
          "  (oversubscribed: includes waiting for a core, not only MPI's cost per message)\n",
          a, b);
    }
    std::printf(
        "\nMeasured median over the model's time (alpha %.3f us, beta %.4f ns/byte) at the "
        "measured\n"
        "worker counts (the star's coordinator is rank W+1 here); above 1: slower than the model\n",
        a_s * 1e6, b_l * 1e9);
    std::printf("  %8s %6s %5s %10s %10s %10s %10s\n", "spikes", "need", "ranks", "star",
                "direct p2p", "alltoallv", "allgatherv");
    for (int li = 0; li < nl; ++li) {
      const Load& L = o.loads[static_cast<size_t>(li) % o.loads.size()];
      const double need = o.needs[static_cast<size_t>(li) / o.loads.size()];
      const double mean = L.neurons * L.hz * o.epoch_ms * 1e-3;
      for (int wi = 0; wi < nw; ++wi) {
        const int W = o.ranks[static_cast<size_t>(wi)];
        double t[kModes];
        Model(a_s, b_l, mean * kSpikeBytes, W, PeersNeeding(W, need), t);
        std::printf("  %8.0f %6.2f %5d", mean, need, W);
        for (int m = 0; m < kModes; ++m)
          std::printf(" %10.2f", medians[static_cast<size_t>((li * nw + wi) * kModes + m)] / t[m]);
        std::printf("\n");
      }
    }
    PrintModel(o, a_s, b_l, "measured here, loopback shared memory");
  }
  for (auto& c : star)
    if (c != MPI_COMM_NULL) MPI_Comm_free(&c);
  for (auto& c : direct)
    if (c != MPI_COMM_NULL) MPI_Comm_free(&c);
  MPI_Finalize();
  return all_bad ? 1 : 0;
}
