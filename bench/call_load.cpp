// call_load: the whole life of calls over HTTP against the real `callq
// serve`, with this program playing Twilio on loopback: a signed voice
// webhook, the REST redirect received by its own REST fake, connect-agent,
// the agent leg's status, dial-result completed, and the agent's wrap-up;
// 1,000 agents heartbeating; callers arriving at a fixed rate.
//
//   call_load [--rate=1000] [--seconds=20] [--agents=1000] [--workers=64]
//             [--store=postgresql://...]   (the log in PostgreSQL, emptied first)
//
// Prints completed calls/s over the arrival window, p50/p99 of every
// webhook's answer time, and p99 of "call queued (voice answered) -> REST
// redirect received".
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/gateway/gateway_options.hpp"
#include "bench/bench_util.hpp"
#include "bench/twilio_side.hpp"
#include "http/signature.hpp"
#include "storage/event_log.hpp"
#include "storage/pg_connection.hpp"
#include "tests/spawn_server.hpp"

using namespace callq;
using clk = std::chrono::steady_clock;

namespace {

const char* const token = bench::twilio_token;
const char* const base = bench::public_base;

/// Work for the Twilio side: one webhook to send.
struct task {
  enum class kind { voice, connect } what = kind::voice;
  std::string sid, offer;
};

struct shared {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<task> work;
  bool stop = false;
  std::map<std::string, clk::time_point> queued_at;  ///< sid -> voice answered
  std::vector<double> queue_to_redirect_ms;
  std::map<std::string, std::vector<double>> latency_ms;  ///< by webhook
  uint64_t completed = 0, failed = 0;
  uint64_t refused = 0;  ///< voice webhooks answered 503 (a new call refused for overload)
  clk::time_point window_end;
  uint64_t completed_in_window = 0;

  void push(task t) {
    {
      std::lock_guard lock(mu);
      work.push_back(std::move(t));
    }
    cv.notify_one();
  }
};

std::string body_of(const http::form_fields& f) {
  std::string body;
  for (auto& [k, v] : f)
    body += (body.empty() ? "" : "&") + k + "=" + form_encode(v);
  return body;
}

/// Sends one signed webhook; returns the answer body ("" on failure).
std::string hook(httplib::Client& cli, shared& s, const std::string& name, const std::string& query,
                 http::form_fields f) {
  std::string path = "/api/webhooks/twilio/" + name;
  httplib::Headers h = {
      {"X-Twilio-Signature", http::twilio_signature(token, std::string(base) + path + query, f)}};
  auto start = clk::now();
  auto res = cli.Post((path + query).c_str(), h, body_of(f), "application/x-www-form-urlencoded");
  double ms = std::chrono::duration<double, std::milli>(clk::now() - start).count();
  std::lock_guard lock(s.mu);
  if (res && res->status == 503 && name == "voice") {  // Twilio would play the fallback
    ++s.refused;
    return {};
  }
  if (!res || res->status != 200) {
    if (s.failed++ < 3)
      std::fprintf(stderr, "%s failed: %s\n", name.c_str(),
                   res ? ("HTTP " + std::to_string(res->status) + " " + res->body).c_str()
                       : httplib::to_string(res.error()).c_str());
    return {};
  }
  s.latency_ms[name].push_back(ms);
  return res->body;
}

http::form_fields call_form(const std::string& sid, const std::string& status) {
  return {{"AccountSid", "ACbench"}, {"CallSid", sid}, {"CallStatus", status},
          {"Direction", "inbound"}, {"From", "+15551234567"}, {"To", "+15559990000"}};
}

void worker(int port, shared& s) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);
  cli.set_read_timeout(30, 0);
  for (;;) {
    task t;
    {
      std::unique_lock lock(s.mu);
      s.cv.wait(lock, [&] { return s.stop || !s.work.empty(); });
      if (s.work.empty())
        return;
      t = std::move(s.work.front());
      s.work.pop_front();
    }
    if (t.what == task::kind::voice) {
      if (!hook(cli, s, "voice", "", call_form(t.sid, "ringing")).empty()) {
        std::lock_guard lock(s.mu);
        if (!s.queued_at.count(t.sid))  // the redirect may have come first
          s.queued_at[t.sid] = clk::now();
      }
      continue;
    }
    std::string q = "?offer=" + t.offer;
    hook(cli, s, "connect-agent", q, call_form(t.sid, "in-progress"));
    hook(cli, s, "agent-leg-status", q, call_form("CL" + t.sid.substr(2), "in-progress"));
    auto f = call_form(t.sid, "in-progress");
    f.emplace_back("DialCallStatus", "completed");
    f.emplace_back("DialCallDuration", "0");
    if (!hook(cli, s, "dial-result", q, f).empty()) {
      std::lock_guard lock(s.mu);
      ++s.completed;
      if (clk::now() <= s.window_end)
        ++s.completed_in_window;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  long rate = bench::arg(argc, argv, "rate", 1000);
  long seconds = bench::arg(argc, argv, "seconds", 20);
  long agents = bench::arg(argc, argv, "agents", 1000);
  long workers = bench::arg(argc, argv, "workers", 64);
  long rss_every = bench::arg(argc, argv, "rss-every", 60);  // seconds between RSS lines
  shared s;

  // Twilio's REST API: every redirect becomes the caller's next webhooks.
  httplib::Server rest;
  // Like Twilio's API: answers without Nagle's delay, connections kept.
  rest.set_tcp_nodelay(true);
  rest.set_keep_alive_max_count(1'000'000);
  rest.Post(R"(/2010-04-01/Accounts/[^/]+/Calls/([^/]+)\.json)",
            [&](const httplib::Request& req, httplib::Response& res) {
              std::string sid = req.matches[1];
              std::string url = req.get_param_value("Url");
              auto at = url.find("offer=");
              std::string offer = at == std::string::npos ? "" : url.substr(at + 6);
              {
                std::lock_guard lock(s.mu);
                auto q = s.queued_at.find(sid);
                auto now = clk::now();
                s.queue_to_redirect_ms.push_back(
                    q == s.queued_at.end() ? 0.0
                                           : std::chrono::duration<double, std::milli>(now - q->second).count());
                s.queued_at[sid] = now;
              }
              s.push({task::kind::connect, sid, offer});
              res.set_content("{}", "application/json");
            });
  int rest_port = rest.bind_to_any_port("127.0.0.1");
  std::thread rest_thread([&] { rest.listen_after_bind(); });

  std::string dir = (std::filesystem::temp_directory_path() / "callq-call-load").string();
  std::filesystem::remove_all(dir);
  std::string store = bench::sarg(argc, argv, "store", "");
  if (!store.empty()) {  // an empty log, as a fresh directory is
    std::unique_ptr<storage::pg_connection> c;
    if (storage::pg_connection::connect(store, &c))
      c->exec_script("DROP TABLE IF EXISTS callq_events, callq_idempotency, callq_snapshots, "
                     "callq_meta, callq_leader");
  }
  auto server = testing::spawn_callq(
      bench::callq_binary(CALLQ_BINARY),
      bench::with_tuning(std::map<std::string, std::string>{{"CALLQ_PORT", "0"}, {"CALLQ_DATA_DIR", dir}, {"CALLQ_ADMIN_TOKEN", "bench"},
       {"CALLQ_STORE", store},
       {"TWILIO_AUTH_TOKEN", token}, {"TWILIO_ACCOUNT_SID", "ACbench"},
       {"TWILIO_API_BASE", "http://127.0.0.1:" + std::to_string(rest_port)},
       {"PUBLIC_BASE_URL", base}, {"WRAP_UP_TIME", "250ms"},
       {"AGENT_HEARTBEAT_INTERVAL", "10s"},
       {"CALLQ_HTTP_THREADS", std::to_string(workers + 16)}}));
  if (server.port == 0) {
    std::fprintf(stderr, "callq did not start\n");
    return 1;
  }
  std::printf("call_load: %ld calls/s for %ld s, %ld agents, %ld Twilio-side connections, log on %s\n",
              rate, seconds, agents, workers, store.empty() ? "RocksDB" : "PostgreSQL");
  if (!store.empty()) {  // a shared log: the server leads once it has the lock
    httplib::Client probe("127.0.0.1", server.port);
    for (int i = 0; i < 500; ++i) {
      auto r = probe.Get("/healthz/leader");
      if (r && r->status == 200)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // Agents: created, then heartbeating every 10 s until the end.
  httplib::Client admin("127.0.0.1", server.port);
  admin.set_read_timeout(30, 0);
  httplib::Headers bearer = {{"Authorization", "Bearer bench"}};
  std::vector<std::string> tokens;
  for (long a = 0; a < agents; ++a) {
    std::string id = "ag" + std::to_string(a);
    auto res = admin.Put(("/api/agents/" + id).c_str(), bearer,
                         nlohmann::json{{"clientIdentity", id}}.dump(), "application/json");
    if (!res || res->status != 201) {
      std::fprintf(stderr, "cannot create agent %s\n", id.c_str());
      return 1;
    }
    tokens.push_back(nlohmann::json::parse(res->body)["token"]);
  }
  std::atomic<bool> done{false};
  std::atomic<uint64_t> heartbeats{0};
  // When each agent's heartbeats were sent (wall clock, as the log's
  // times): an expiry is false when a heartbeat had been sent within the
  // timeout before it (it waited somewhere inside callq).
  std::vector<std::vector<int64_t>> sent_ms(static_cast<size_t>(agents));
  const int64_t heartbeat_interval_ms = 10'000;  // AGENT_HEARTBEAT_INTERVAL
  const int64_t heartbeat_timeout_ms = 2 * heartbeat_interval_ms;  // AGENT_HEARTBEAT_TIMEOUT's default
  // Each agent heartbeats on its own schedule, as a softphone's timer
  // does: every 10 s from its own phase, the phases spread evenly over
  // the 10 s. Eight senders each keep every eighth agent's schedule, so a
  // heartbeat leaves on time however slowly callq answers the one before
  // (senders that sent their agents back to back left each later in its
  // round as answers slowed: a heartbeat 10.3 s after the last, which
  // callq rightly counts as late).
  constexpr long senders = 8;
  const auto beat = std::chrono::duration_cast<clk::duration>(
      std::chrono::milliseconds(heartbeat_interval_ms));
  std::vector<std::thread> beats;
  auto phase0 = clk::now();
  for (long k = 0; k < senders; ++k)
    beats.emplace_back([&, k] {
      httplib::Client cli("127.0.0.1", server.port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      std::vector<long> mine;
      for (long a = k; a < agents; a += senders)
        mine.push_back(a);
      for (long round = 0; !done; ++round)
        for (size_t i = 0; i < mine.size() && !done; ++i) {
          long a = mine[i];
          auto due = phase0 + round * beat +
                     beat * static_cast<long>(i) /
                         static_cast<long>(mine.size()) +
                     std::chrono::milliseconds(k);
          while (!done && clk::now() < due)
            std::this_thread::sleep_for(
                std::min<clk::duration>(due - clk::now(), std::chrono::milliseconds(50)));
          if (done)
            break;
          httplib::Headers h = {{"Authorization", "Bearer " + tokens[static_cast<size_t>(a)]}};
          sent_ms[static_cast<size_t>(a)].push_back(
              std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count());
          cli.Post("/api/agent-heartbeat", h,
                   nlohmann::json{{"agentId", "ag" + std::to_string(a)}, {"status", "available"},
                                  {"deviceRegistered", true}}.dump(),
                   "application/json");
          ++heartbeats;
        }
    });
  while (heartbeats.load() < static_cast<uint64_t>(agents))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));

  // The server's RSS every `rss_every` seconds while calls are offered:
  // under steady load it must stay flat once the late-retry window is full.
  std::thread rss_reporter([&] {
    auto start = clk::now();
    auto next = start + std::chrono::seconds(rss_every);
    while (!done) {
      if (clk::now() >= next) {
        std::printf("  rss at %3.0f s: %ld MiB\n", bench::seconds_since(start),
                    testing::rss_kib_of(server.pid) / 1024);
        next += std::chrono::seconds(rss_every);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::vector<std::thread> pool;
  for (long w = 0; w < workers; ++w)
    pool.emplace_back(worker, server.port, std::ref(s));
  auto t0 = clk::now();
  s.window_end = t0 + std::chrono::seconds(seconds);
  long total = rate * seconds;
  for (long i = 0; i < total; ++i) {
    auto due = t0 + std::chrono::microseconds(i * 1'000'000 / rate);
    std::this_thread::sleep_until(due);
    s.push({task::kind::voice, "CA" + std::to_string(1'000'000'000 + i) + "0123456789abcdef0123", ""});
  }
  // Let the last calls finish (at most 15 s).
  auto drain = clk::now();
  while (clk::now() - drain < std::chrono::seconds(15)) {
    {
      std::lock_guard lock(s.mu);
      if (s.completed + s.refused >= static_cast<uint64_t>(total) && s.work.empty())
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Work the Twilio side has not sent by now is dropped, not sent late:
  // when callq fell behind, the backlog of webhooks could keep this
  // program running for an hour after the window (it did once).
  size_t unsent = 0;
  {
    std::lock_guard lock(s.mu);
    unsent = s.work.size();
    s.work.clear();
    s.stop = true;
  }
  s.cv.notify_all();
  for (auto& t : pool)
    t.join();
  done = true;
  for (auto& t : beats)
    t.join();
  rss_reporter.join();

  std::printf("  completed calls: %lu of %ld; %.0f completed calls/s over the %ld s window\n",
              static_cast<unsigned long>(s.completed), total,
              static_cast<double>(s.completed_in_window) / static_cast<double>(seconds), seconds);
  for (auto& [name, v] : s.latency_ms)
    std::printf("  %-18s p50 %6.2f ms   p99 %6.2f ms   (%zu answers)\n", name.c_str(),
                bench::percentile(v, 50), bench::percentile(v, 99), v.size());
  std::printf("  call queued -> REST redirect received: p50 %.2f ms, p99 %.2f ms\n",
              bench::percentile(s.queue_to_redirect_ms, 50),
              bench::percentile(s.queue_to_redirect_ms, 99));
  std::printf("  new calls refused (503, overload): %lu\n", static_cast<unsigned long>(s.refused));
  std::printf("  failed requests: %lu\n", static_cast<unsigned long>(s.failed));
  std::printf("  webhooks not sent (the Twilio side's backlog 15 s after the window): %zu\n", unsent);
  int code = testing::stop_child(server.pid, SIGTERM);
  std::printf("  server stopped with exit code %d\n", code);
  if (store.empty()) {
    // What the log says of the agents, who heartbeat every 10 s throughout:
    // an expiry here is a false one.
    std::unique_ptr<storage::event_log> log;
    storage::log_options ro;
    ro.read_only = true;
    uint64_t expired = 0, false_expired = 0, resumed = 0, readiness = 0, readiness_false_drops = 0;
    // Whether agent `id` ("ag<n>") had sent a heartbeat within `window_ms`
    // before `ts_ms`.
    auto sent_within = [&](const std::string& id, int64_t ts_ms, int64_t window_ms) {
      const auto& sent = sent_ms[static_cast<size_t>(std::stol(id.substr(2)))];
      auto after = std::upper_bound(sent.begin(), sent.end(), ts_ms);
      return after != sent.begin() && *(after - 1) > ts_ms - window_ms;
    };
    if (storage::event_log::open_data_dir(dir, ro, &log))
      log->scan(1, [&](const events::envelope& e) {
        if (auto* x = std::get_if<events::agent_heartbeat_expired>(&e.ev.body)) {
          ++expired;
          false_expired += sent_within(x->agent_id, e.ev.ts_ms, heartbeat_timeout_ms);
        }
        resumed += std::holds_alternative<events::agent_heartbeat_resumed>(e.ev.body);
        if (auto* x = std::get_if<events::agent_readiness_changed>(&e.ev.body)) {
          ++readiness;
          // Lowered though the agent's last heartbeat had been sent within
          // the interval: its next heartbeat reverses it.
          readiness_false_drops += x->readiness < x->previous &&
                                   sent_within(x->agent_id, e.ev.ts_ms, heartbeat_interval_ms);
        }
        return true;
      });
    std::printf("  in the log: %lu agent.heartbeat_expired, of which %lu false (a heartbeat had "
                "been sent within the timeout before it), %lu agent.heartbeat_resumed, %lu "
                "agent.readiness_changed, of which %lu lowered it while the agent's last "
                "heartbeat had been sent within the interval\n",
                static_cast<unsigned long>(expired), static_cast<unsigned long>(false_expired),
                static_cast<unsigned long>(resumed), static_cast<unsigned long>(readiness),
                static_cast<unsigned long>(readiness_false_drops));
  }
  rest.stop();
  rest_thread.join();
  if (std::getenv("CALLQ_BENCH_KEEP") == nullptr)  // keep the log to study it
    std::filesystem::remove_all(dir);
  else
    std::printf("  log kept in %s\n", dir.c_str());
  return 0;
}
