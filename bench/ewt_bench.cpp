// ewt_bench: how close announced waits come, by predictor (README,
// "Announced waits"; bench/README.md). M/M/n+M histories -- Poisson
// arrivals, exponential handle times and patience -- run through callq's
// own runtime and deciders in virtual time (the tests' actor harness):
// every caller is announced its wait when it joins the line and every
// 60 s after, and when it is answered each announcement meets the wait
// that followed it. Callers who abandon are left out, as in the reports.
//
// Predictors, all from what callq knew at the announcement:
//   callq       what callq announced (the call.announced event): the
//               40th percentile of the queue-length predictor
//               (actors/call/wait_prediction.hpp) with the moving-average
//               handle time, the staffed agents and the abandonment rate
//               callq measured from the callers before
//   mean        that distribution's mean, without abandonment (what a
//               mean-based queue-length predictor says)
//   median      its median, without abandonment
//   mean+aband  the mean with the callers' true abandonment rate
//   median+aband  the median with it
//   naive       callq's former estimate: ceil(position / agents) x AHT
//   asterisk    app_queue's holdtime, (3 old + new) / 4 of answered
//               callers' waits, not scaled by position
//   les         last-to-enter-service: the wait of the last caller answered
// For each: the median absolute relative error per bucket of callers
// ahead, the median relative error (bias), and for callq the share of
// actual waits inside its announced 10th-90th percentile range; beside
// the floor: the least median absolute relative error any constant
// announcement can reach when the wait is Erlang(k+1) (k ahead, all
// agents busy, no abandonment).
//
// Usage: ewt_bench [calls per history, default 1500] [seeds, default 3]
#include <cmath>
#include <cstdio>
#include <map>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "actors/call/wait_prediction.hpp"
#include "tests/actor_harness.hpp"

using namespace callq;

namespace {

constexpr int64_t aht_ms = 180'000;
constexpr int64_t patience_ms = 300'000;
const std::vector<std::string> predictors = {"callq", "mean", "median", "mean+aband", "median+aband",
                                             "naive", "asterisk", "les"};

struct announcement {
  int64_t at_ms = 0, ahead = 0;
  std::map<std::string, double> predicted;  ///< seconds, by predictor
  int64_t low = 0, high = 0;                ///< callq's range
};

struct sample {
  int64_t ahead = 0;
  double actual = 0;
  std::map<std::string, double> predicted;
  int64_t low = 0, high = 0;
};

/// Buckets of callers ahead, as the reports have them; 4 is all of them.
int bucket_of(int64_t ahead) { return ahead == 0 ? 0 : ahead <= 3 ? 1 : ahead <= 10 ? 2 : 3; }
bool in_bucket(int64_t ahead, int b) { return b == 4 || bucket_of(ahead) == b; }
const char* bucket_names[] = {"0", "1-3", "4-10", "11+", "all"};

double median(std::vector<double> v) {
  if (v.empty())
    return NAN;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// The least median |c - W| / W over constants c, W ~ Gamma(k + 1, 1).
double erlang_floor(int64_t k) {
  static std::map<int64_t, double> memo;
  if (auto i = memo.find(k); i != memo.end())
    return i->second;
  std::mt19937_64 rng(12345 + static_cast<uint64_t>(k));
  std::gamma_distribution<double> g(static_cast<double>(k + 1), 1.0);
  std::vector<double> w(4000);
  for (auto& x : w)
    x = g(rng);
  double best = 1e9;
  for (double c = 0.02 * (k + 1); c <= 2.0 * (k + 1); c += 0.01 * (k + 1)) {
    std::vector<double> e;
    e.reserve(w.size());
    for (double x : w)
      e.push_back(std::abs(c - x) / x);
    best = std::min(best, median(e));
  }
  return memo[k] = best;
}

/// One history: `agents` agents at `load`, `calls` callers.
std::vector<sample> run_history(int agents, double load, int calls, uint32_t seed) {
  policy p;
  p.feature_agent_heartbeat = false;
  p.feature_callback_request_system = false;
  p.wrap_up_ms = 0;
  p.max_queue_wait_ms = 24LL * 3600 * 1000;
  p.announce_interval_ms = 60'000;
  p.default_handle_ms = aht_ms;
  p.orphan_after_ms = 24LL * 3600 * 1000;
  testing::actor_harness x(p, seed);
  for (int a = 0; a < agents; ++a)
    x.add_ready_agent("a" + std::to_string(a));
  std::mt19937_64 rng(seed * 7919 + static_cast<uint64_t>(agents) * 31 + static_cast<uint64_t>(load * 100));
  std::exponential_distribution<double> gap(load * agents / static_cast<double>(aht_ms));
  std::exponential_distribution<double> service(1.0 / static_cast<double>(aht_ms));
  std::exponential_distribution<double> patience(1.0 / static_cast<double>(patience_ms));

  enum class kind { arrive, poll, complete, abandon };
  struct ev {
    int64_t at;
    kind what;
    std::string sid;
    bool operator>(const ev& o) const { return at > o.at; }
  };
  std::priority_queue<ev, std::vector<ev>, std::greater<ev>> due;
  int64_t t = x.now + 1000;
  for (int i = 0; i < calls; ++i) {
    t += static_cast<int64_t>(gap(rng)) + 1;
    due.push({t, kind::arrive, "CA" + std::to_string(i)});
  }
  std::map<std::string, int64_t> arrived, waiting;  ///< sid -> arrival; those still in line
  std::map<std::string, std::string> offer_of;
  std::map<std::string, int64_t> connected;
  std::map<std::string, std::vector<announcement>> announced;
  std::vector<sample> out;
  double avg_handle = 0, asterisk = 0, last_wait = 0;

  // After each command: answer every new offer at once; record every
  // announcement with what each predictor said.
  auto settle = [&] {
    for (size_t round = 0; round < 8; ++round) {
      std::vector<std::pair<std::string, std::string>> offers;
      for (auto& e : x.last_events) {
        if (auto* o = std::get_if<events::call_offered>(&e.body))
          offers.emplace_back(o->call_sid, o->offer_id);
        if (auto* a = std::get_if<events::call_announced>(&e.body)) {
          announcement an;
          an.at_ms = x.now;
          an.ahead = a->position - 1;
          an.low = a->wait_low_seconds;
          an.high = a->wait_high_seconds;
          int64_t handle = avg_handle > 0 ? static_cast<int64_t>(avg_handle) : aht_ms;
          double mean = 0, var = 0, mean_ab = 0, var_ab = 0;
          for (int64_t j = 0; j < a->position; ++j) {
            double r = static_cast<double>(agents) / static_cast<double>(handle);
            mean += 1 / r;
            var += 1 / (r * r);
            double ra = r + static_cast<double>(j) / static_cast<double>(patience_ms);
            mean_ab += 1 / ra;
            var_ab += 1 / (ra * ra);
          }
          an.predicted["callq"] = static_cast<double>(a->estimated_wait_seconds);
          an.predicted["mean"] = mean / 1000;
          an.predicted["median"] = gamma_quantile(mean, var, 0.5) / 1000;
          an.predicted["mean+aband"] = mean_ab / 1000;
          an.predicted["median+aband"] = gamma_quantile(mean_ab, var_ab, 0.5) / 1000;
          an.predicted["naive"] = static_cast<double>(naive_wait_seconds(a->position, agents, handle));
          an.predicted["asterisk"] = asterisk;
          an.predicted["les"] = last_wait;
          announced[a->call_sid].push_back(an);
        }
      }
      if (offers.empty())
        return;
      x.last_events.clear();
      std::vector<events::event> more;
      for (auto& [sid, offer] : offers) {
        offer_of[sid] = offer;
        connected[sid] = x.now;
        x.run(cmd::agent_leg_status{offer, "in-progress"});
        more.insert(more.end(), x.last_events.begin(), x.last_events.end());
        double wait = static_cast<double>(x.now - arrived[sid]) / 1000;
        waiting.erase(sid);
        asterisk = asterisk == 0 ? wait : (3 * asterisk + wait) / 4;
        last_wait = wait;
        for (auto& an : announced[sid]) {
          sample s;
          s.ahead = an.ahead;
          s.actual = std::max(1.0, static_cast<double>(x.now - an.at_ms) / 1000);
          s.predicted = an.predicted;
          s.low = an.low;
          s.high = an.high;
          out.push_back(std::move(s));
        }
        announced.erase(sid);
        due.push({x.now + static_cast<int64_t>(service(rng)) + 1000, kind::complete, sid});
      }
      x.last_events = std::move(more);
    }
  };

  while (!due.empty()) {
    ev e = due.top();
    due.pop();
    x.now = e.at;
    switch (e.what) {
      case kind::arrive:
        arrived[e.sid] = x.now;
        waiting[e.sid] = x.now;
        x.incoming(e.sid, "+1555" + std::to_string(1000000 + std::stoi(e.sid.substr(2))));
        settle();
        if (waiting.count(e.sid)) {
          x.run(cmd::hold_poll{e.sid});
          settle();
          due.push({x.now + static_cast<int64_t>(patience(rng)) + 1, kind::abandon, e.sid});
          due.push({x.now + 60'000, kind::poll, e.sid});
        }
        break;
      case kind::poll:
        if (waiting.count(e.sid)) {
          x.run(cmd::hold_poll{e.sid});
          settle();
          due.push({x.now + 60'000, kind::poll, e.sid});
        }
        break;
      case kind::abandon:
        if (waiting.count(e.sid)) {
          waiting.erase(e.sid);
          announced.erase(e.sid);
          x.run(cmd::call_status{e.sid, "completed"});
          settle();
        }
        break;
      case kind::complete: {
        x.run(cmd::dial_result{offer_of[e.sid], "completed", "in-progress", (x.now - connected[e.sid]) / 1000});
        for (auto& ev2 : x.last_events)
          if (auto* c = std::get_if<events::call_completed>(&ev2.body)) {
            double ms = static_cast<double>(c->talk_seconds) * 1000;
            avg_handle = avg_handle == 0 ? ms : std::floor((avg_handle * 4 + ms) / 5);
          }
        settle();
        break;
      }
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int calls = argc > 1 ? std::atoi(argv[1]) : 1500;
  int seeds = argc > 2 ? std::atoi(argv[2]) : 3;
  std::vector<sample> all;
  std::printf("ewt_bench: M/M/n+M, AHT %llds, mean patience %llds, %d callers per history, %d seeds\n",
              static_cast<long long>(aht_ms / 1000), static_cast<long long>(patience_ms / 1000), calls, seeds);
  std::printf("%-8s %-5s %8s %12s %12s %12s\n", "agents", "load", "samples", "callq", "naive", "coverage80");
  for (int agents : {1, 5, 20})
    for (double load : {0.7, 0.9, 1.1}) {
      std::vector<sample> mine;
      for (int s = 1; s <= seeds; ++s) {
        auto h = run_history(agents, load, calls, static_cast<uint32_t>(s));
        mine.insert(mine.end(), h.begin(), h.end());
      }
      std::vector<double> e1, e2;
      int in = 0;
      for (auto& s : mine) {
        e1.push_back(std::abs(s.predicted["callq"] - s.actual) / s.actual);
        e2.push_back(std::abs(s.predicted["naive"] - s.actual) / s.actual);
        in += s.actual >= static_cast<double>(s.low) && s.actual <= static_cast<double>(s.high);
      }
      std::printf("%-8d %-5.1f %8zu %12.3f %12.3f %12.3f\n", agents, load, mine.size(), median(e1), median(e2),
                  mine.empty() ? NAN : static_cast<double>(in) / static_cast<double>(mine.size()));
      std::fflush(stdout);
      all.insert(all.end(), mine.begin(), mine.end());
    }
  std::printf("\nAll histories: median |relative error| (bias) per bucket of callers ahead\n");
  std::printf("%-14s", "predictor");
  for (auto* b : bucket_names)
    std::printf(" %22s", b);
  std::printf("\n");
  for (auto& name : predictors) {
    std::printf("%-14s", name.c_str());
    for (int b = 0; b < 5; ++b) {
      std::vector<double> abs_err, err;
      for (auto& s : all)
        if (in_bucket(s.ahead, b)) {
          double r = (s.predicted[name] - s.actual) / s.actual;
          abs_err.push_back(std::abs(r));
          err.push_back(r);
        }
      std::printf("    %6.3f (%+6.3f) n=%-5zu", median(abs_err), median(err), abs_err.size());
    }
    std::printf("\n");
  }
  std::printf("%-14s", "erlang floor");
  for (int b = 0; b < 5; ++b) {
    double sum = 0;
    size_t n = 0;
    for (auto& s : all)
      if (in_bucket(s.ahead, b)) {
        sum += erlang_floor(s.ahead);
        ++n;
      }
    std::printf("    %6.3f %17s", n ? sum / static_cast<double>(n) : NAN, "");
  }
  std::printf("\n%-14s", "coverage80");
  for (int b = 0; b < 5; ++b) {
    size_t n = 0, in = 0;
    for (auto& s : all)
      if (in_bucket(s.ahead, b)) {
        ++n;
        in += s.actual >= static_cast<double>(s.low) && s.actual <= static_cast<double>(s.high);
      }
    std::printf("    %6.3f %17s", n ? static_cast<double>(in) / static_cast<double>(n) : NAN, "");
  }
  std::printf("\n");
  return 0;
}
