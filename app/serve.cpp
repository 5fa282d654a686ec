#include "app/serve.hpp"

#include <algorithm>
#include <csignal>
#include <iostream>
#include <malloc.h>
#include <pthread.h>
#include <thread>
#include <unistd.h>

#include "actors/log.hpp"
#include "storage/leadership.hpp"

extern char** environ;

namespace callq::app {

namespace {

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos)
      env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

}  // namespace

status configured_rules(policy* out) {
  server_config cfg;
  if (auto st = load_config(environment(), flag_values{}, &cfg); !st)
    return st;
  *out = cfg.runtime.rules;
  return status::ok();
}

int serve(const flag_values& flags) {
  server_config cfg;
  if (auto st = load_config(environment(), flags, &cfg); !st) {
    std::cerr << "callq: " << st.message() << "\n";  // a usage error, before serving
    return 2;
  }
  // Blocks of 1 MiB and more (RocksDB's memtable arenas, a snapshot's
  // encoding) are mapped and unmapped on their own. glibc otherwise raises
  // its mmap threshold after the first such block is freed, and the next
  // ones come from the heap, which fragments: under a steady load the RSS
  // kept growing with the live heap flat.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  // Every thread started from here on inherits the blocked signals; the
  // main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGUSR1);  // the runtime went down (on_fatal)
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::string token_file = "from CALLQ_ADMIN_TOKEN";
  if (!cfg.admin_token_from_env) {
    std::string path;
    if (auto st = ensure_admin_token(cfg.runtime.data_dir, &cfg.http.admin_token, &path); !st) {
      log_line(log_level::error, st.message());
      return 1;
    }
    log_line(log_level::info, "admin token stored in " + path + " (mode 0600)");
    token_file = "in " + path;
  }
  if (cfg.runtime.gateway.account_sid.empty())
    log_line(log_level::warn, "TWILIO_ACCOUNT_SID is not set; REST calls to Twilio will fail");

  cfg.runtime.version = CALLQ_VERSION;
  // A shared (PostgreSQL) log: start as a follower; the leadership thread
  // promotes this process when it wins the lock (README, "High availability").
  bool shared = storage::event_log::is_postgres_url(cfg.runtime.store);
  cfg.runtime.follower = shared;
  // One line on stdout per role change, beside the listening line, for
  // scripts and tests that wait for it.
  cfg.runtime.on_role = [](bool leading) {
    std::cout << (leading ? "callq leads the shared event log" : "callq follows the shared event log")
              << std::endl;
  };
  // Every actor stopped and could not be rebuilt: stop and exit non-zero
  // so that systemd restarts callq (a restart reads the log anew).
  cfg.runtime.on_fatal = [](const std::string&) { kill(getpid(), SIGUSR1); };
  std::unique_ptr<runtime> rt;
  startup_report rep;
  if (auto st = runtime::start(cfg.runtime, &rt, &rep); !st) {
    log_line(log_level::error, st.message());
    return 1;
  }
  for (auto& w : rep.warnings)
    log_line(log_level::warn, w);
  log_line(log_level::info,
      "callq " + std::string(CALLQ_VERSION) + ": rebuilt state from " +
          (rep.snapshot_seq != 0 ? "the snapshot at event " + std::to_string(rep.snapshot_seq) + " and "
                                 : std::string()) +
          std::to_string(rep.events_replayed) + " events in " + std::to_string(rep.replay_seconds) +
          " s (log opened in " + std::to_string(rep.open_seconds) + " s; " + std::to_string(rep.calls) +
          " calls and " + std::to_string(rep.agents) + " agents started in " +
          std::to_string(rep.spawn_seconds) + " s)");

  std::unique_ptr<storage::leadership> leader;
  if (shared) {
    storage::leadership_options lo;
    lo.url = cfg.runtime.store;
    lo.lease_ms = cfg.leader_lease_ms;
    lo.renew_ms = std::max<int64_t>(200, cfg.leader_lease_ms / 5);
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    lo.holder = std::string(host) + ":" + std::to_string(getpid());
    lo.warn = [](const std::string& text) { log_line(log_level::warn, text); };
    runtime* r = rt.get();
    leader = std::make_unique<storage::leadership>(
        lo, [r](int64_t epoch) { r->lead(epoch); },
        [r](const std::string& why) { r->step_down(why); });
    leader->start();
    log_line(log_level::info, "following the shared event log until this process leads it (" +
                                  lo.holder + ")");
  }

  http::server srv(*rt, cfg.http);
  int port = 0;
  if (auto st = srv.bind(&port); !st) {
    log_line(log_level::error, st.message());
    rt->stop();
    if (leader)
      leader->stop();
    return 1;
  }
  std::thread http_thread([&] { srv.run(); });
  std::cout << "callq listening on http://" << cfg.http.bind << ":" << port << std::endl;
  // Where a new user goes next (README, "From nothing to a first call").
  std::string base = "http://" + cfg.http.bind + ":" + std::to_string(port);
  log_line(log_level::info, "pages: " + base + "/wallboard and " + base + "/reports (admin or viewer token), " +
                                base + "/agent (agent token); admin token " + token_file +
                                "; Twilio reaches callq at " + cfg.http.public_base_url);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  bool fatal = sig == SIGUSR1;
  if (fatal)
    log_line(log_level::error, "stopping: " + (rt->down().empty() ? "SIGUSR1" : rt->down()) +
                                   "; exit status 1 for a restart");
  else
    log_line(log_level::info, std::string(sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                                 ": draining requests and flushing the log");
  srv.stop();
  http_thread.join();
  rt->stop();  // appends nothing more; then the lock goes with its session
  if (leader)
    leader->stop();
  log_line(log_level::info, "stopped");
  return fatal ? 1 : 0;
}

}  // namespace callq::app
