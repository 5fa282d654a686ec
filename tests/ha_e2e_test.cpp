// End-to-end: several `callq serve` processes on one PostgreSQL log
// (README, "High availability"): a leader killed with calls waiting and
// webhooks arriving, a leader paused past its lease (fencing), and the
// database's own primary killed and its synchronous standby promoted.
// Nothing sleeps: the tests wait, with deadlines, for the lines a server
// prints when it starts or stops leading, for the fake Twilio's requests,
// and for PostgreSQL's synchronous commit; the calls' own time is virtual.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <sys/wait.h>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "events/event.hpp"
#include "storage/event_log.hpp"
#include "tests/callq_process.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/pg_database.hpp"
#include "tests/temp_dir.hpp"

using namespace callq;
using namespace callq::testing;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

constexpr const char* leads = "callq leads the shared event log";
constexpr const char* follows = "callq follows the shared event log";

namespace {

std::map<std::string, std::string> call(const std::string& sid) {
  return {{"CallSid", sid}, {"AccountSid", "ACtest"}, {"From", "+1555000" + sid.substr(2)},
          {"To", "+15559990000"}, {"CallStatus", "in-progress"}, {"Direction", "inbound"}};
}

std::string role(callq_process& p) {
  auto r = p.json_request("GET", "/healthz", "");
  return r.status == 200 ? json::parse(r.body).value("role", "") : "";
}

/// Every event of the PostgreSQL log at `url`, read as the offline commands
/// read it.
std::vector<events::envelope> log_of(const std::string& url) {
  std::unique_ptr<storage::event_log> log;
  storage::log_options ro;
  ro.read_only = true;
  REQUIRE(storage::event_log::open_store(url, "", ro, &log));
  std::vector<events::envelope> all;
  REQUIRE(log->scan(1, [&](const events::envelope& e) { return all.push_back(e), true; }));
  storage::verify_report rep;
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 0);
  return all;
}

/// How many times the log records each call's arrival: a call recorded
/// twice (a retried webhook taken twice across a takeover) shows as 2.
struct arrivals {
  std::map<std::string, int> by_sid;
  int count(const std::string& sid) const {
    auto it = by_sid.find(sid);
    return it == by_sid.end() ? 0 : it->second;
  }
  /// Every CallSid recorded more than once, for a failure message.
  std::string recorded_twice() const {
    std::string out;
    for (auto& [sid, n] : by_sid)
      if (n > 1)
        out += sid + " x" + std::to_string(n) + " ";
    return out;
  }
};

arrivals arrived(const std::vector<events::envelope>& log) {
  arrivals out;
  for (auto& e : log)
    if (auto* a = std::get_if<events::call_arrived>(&e.ev.body))
      ++out.by_sid[a->call_sid];
  return out;
}

/// No call was ever offered while an offer of it was still open: every
/// call.offered follows the end of the call's previous offer.
std::string two_offers_at_once(const std::vector<events::envelope>& log) {
  std::map<std::string, std::string> open;  // call -> offer
  for (auto& e : log) {
    if (auto* o = std::get_if<events::call_offered>(&e.ev.body)) {
      if (!open[o->call_sid].empty())
        return o->call_sid + " offered as " + o->offer_id + " while " + open[o->call_sid] + " was open";
      open[o->call_sid] = o->offer_id;
    } else if (auto* f = std::get_if<events::call_offer_failed>(&e.ev.body)) {
      open[f->call_sid].clear();
    } else if (auto* c = std::get_if<events::call_connected>(&e.ev.body)) {
      open[c->call_sid].clear();
    } else if (auto* a = std::get_if<events::call_abandoned>(&e.ev.body)) {
      open[a->call_sid].clear();
    }
  }
  return {};
}

std::vector<std::string> waiting_sids(callq_process& p) {
  std::vector<std::string> out;
  json status = p.admin_get("/api/queue/status");
  for (auto& q : status["queues"])
    for (auto& w : q["waiting"])
      out.push_back(w["callSid"]);
  return out;
}

/// A leader group's world: a fresh database, a fake Twilio, a directory
/// for the processes' data directories.
struct group {
  std::string url;
  fake_twilio tw;
  temp_dir dir;
  group() {
    std::string why;
    url = new_pg_database(&why);
    INFO(why);
    REQUIRE_FALSE(url.empty());
  }
};

}  // namespace

TEST_CASE("HA: the leader is killed with calls waiting and webhooks arriving, the follower leads within seconds and nothing acknowledged is lost") {
  group g;
  auto& [url, tw, dir] = g;
  std::map<std::string, std::string> env = {{"CALLQ_STORE", url}};
  auto a = std::make_unique<callq_process>(dir.path() + "/a", tw.base_url(), env);
  REQUIRE(a->ready());
  REQUIRE(a->wait_for_output(leads, 10'000));
  callq_process b(dir.path() + "/b", tw.base_url(), env);
  REQUIRE(b.ready());
  CHECK(role(b) == "follower");
  CHECK(b.json_request("GET", "/healthz/leader", "").status == 503);

  // Two ready agents: two calls ring, the others wait.
  for (auto id : {"alice", "bob"}) {
    auto token = create_agent(*a, id);
    heartbeat(*a, id, token);
  }
  std::vector<std::string> acked;
  std::map<std::string, std::string> answered_by_a;  // CallSid -> the leader's TwiML
  for (int i = 1; i <= 10; ++i) {
    std::string sid = "CA" + std::to_string(100 + i);
    auto r = a->webhook("voice", "", call(sid), "tok-" + sid);
    REQUIRE(r.status == 200);
    acked.push_back(sid);
    answered_by_a[sid] = r.body;
  }
  REQUIRE(tw.wait_for([](auto& reqs) { return reqs.size() >= 2; }));
  auto queue_before = waiting_sids(*a);
  CHECK(b.webhook("voice", "", call("CA999"), "tok-CA999").status == 503);

  // Webhooks keep arriving while the leader dies: each goes to the leader;
  // one that fails is retried, as Twilio retries it (same idempotency
  // token), once the follower says it leads.
  // The sender never leaves the main thread waiting: it signals
  // `three_sent` once (after three answers, before it waits for the
  // follower, or at its end, whichever comes first), and every failed
  // webhook is recorded, not waited on.
  std::promise<void> b_led, three_sent;
  std::shared_future<void> b_leads = b_led.get_future().share();
  std::vector<std::string> sent_after, failed;
  std::thread twilio([&] {
    bool on_b = false, signalled = false;
    auto signal = [&] {
      if (!signalled)
        three_sent.set_value();
      signalled = true;
    };
    for (int i = 1; i <= 30; ++i) {
      std::string sid = "CA" + std::to_string(200 + i);
      int status = on_b ? 0 : a->webhook("voice", "", call(sid), "tok-" + sid).status;
      if (status != 200) {
        signal();
        b_leads.wait();
        on_b = true;
        status = b.webhook("voice", "", call(sid), "tok-" + sid).status;
      }
      if (status == 200)
        sent_after.push_back(sid);
      else
        failed.push_back(sid + " answered " + std::to_string(status) + " by the follower");
      if (sent_after.size() == 3)
        signal();
    }
    signal();
  });
  three_sent.get_future().wait();
  // SIGKILL (the sender thread may be mid-request to it: its client stays).
  // Nothing here may leave before b_led is set: the sender may wait on it.
  auto killed_at = clock_type::now();
  CHECK(kill(a->pid(), SIGKILL) == 0);
  bool took_over = b.wait_for_output(leads, 5'000);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - killed_at).count();
  b_led.set_value();
  INFO("the follower led " << took << " ms after the kill");
  CHECK(took_over);
  CHECK(role(b) == "leader");
  twilio.join();
  a->kill_hard();  // reaps it
  INFO("failed webhooks: " << failed.size() << (failed.empty() ? "" : ", first: " + failed[0]));
  CHECK(failed.empty());
  CHECK(sent_after.size() == 30);  // every webhook was answered 2xx in the end
  // Twilio retries webhooks the dead leader answered (same idempotency
  // token): the new leader gives the same TwiML and records nothing new.
  for (const char* sid : {"CA101", "CA110"}) {
    INFO(sid);
    auto r = b.webhook("voice", "", call(sid), std::string("tok-") + sid);
    CHECK(r.status == 200);
    CHECK(r.body == answered_by_a[sid]);
  }

  // Every webhook ever answered 2xx has its call in the log; the queue is
  // the one before the kill, in order, then the later calls.
  auto log = log_of(url);
  auto sids = arrived(log);
  CHECK(sids.recorded_twice().empty());
  for (auto& s : acked)
    CHECK(sids.count(s) == 1);
  for (auto& s : sent_after)
    CHECK(sids.count(s) == 1);
  CHECK(sids.count("CA999") == 0);
  auto after = waiting_sids(b);
  std::vector<std::string> kept(after.begin(), after.begin() + std::min(after.size(), queue_before.size()));
  CHECK(kept == queue_before);
  CHECK(after.size() == queue_before.size() + sent_after.size());
  // Calls that rang before the kill are still offered to one agent at most.
  CHECK(two_offers_at_once(log).empty());
  b.terminate();
}

TEST_CASE("HA: a leader paused past its lease is fenced: the follower takes over, and once resumed the old leader appends nothing and steps down") {
  group g;
  auto& [url, tw, dir] = g;
  std::map<std::string, std::string> env = {{"CALLQ_STORE", url}, {"CALLQ_LEADER_LEASE", "2s"}};
  callq_process a(dir.path() + "/a", tw.base_url(), env);
  REQUIRE(a.ready());
  REQUIRE(a.wait_for_output(leads, 10'000));
  callq_process b(dir.path() + "/b", tw.base_url(), env);
  REQUIRE(b.ready());
  REQUIRE(a.webhook("voice", "", call("CA1"), "tok-CA1").status == 200);

  // Pause the leader; a webhook reaches it while it is paused.
  pid_t pid = a.pid();
  REQUIRE(pid > 0);
  REQUIRE(kill(pid, SIGSTOP) == 0);
  // kill() returns before the stop takes effect: a thread of the leader
  // must first run to take the signal, and on a busy machine its HTTP
  // thread could answer the webhook below meanwhile. Wait until the
  // kernel reports the child stopped.
  int stopped = 0;
  REQUIRE(waitpid(pid, &stopped, WUNTRACED) == pid);
  REQUIRE(WIFSTOPPED(stopped));
  std::atomic<int> late_status{0};
  std::thread late([&] { late_status = a.webhook("voice", "", call("CA666"), "tok-CA666").status; });
  // Whatever fails below, the paused leader is resumed and the request
  // joined (a joinable thread left behind would terminate the test run).
  struct resume_and_join {
    pid_t pid;
    std::thread& t;
    ~resume_and_join() {
      kill(pid, SIGCONT);
      if (t.joinable())
        t.join();
    }
  } guard{pid, late};
  REQUIRE(b.wait_for_output(leads, 10'000));  // after the 2 s lease lapsed
  REQUIRE(b.webhook("voice", "", call("CA2"), "tok-CA2").status == 200);
  REQUIRE(b.webhook("voice", "", call("CA3"), "tok-CA3").status == 200);
  size_t events_before = log_of(url).size();

  // Resumed: the old leader's pending request is refused, it appends
  // nothing more, and it says it follows.
  REQUIRE(kill(pid, SIGCONT) == 0);
  late.join();
  CHECK(late_status != 200);
  CHECK(a.wait_for_output(follows, 5'000));
  CHECK(role(a) == "follower");
  CHECK(a.webhook("voice", "", call("CA667"), "tok-CA667").status == 503);
  auto log = log_of(url);
  CHECK(log.size() == events_before);
  auto sids = arrived(log);
  CHECK(sids.recorded_twice().empty());
  CHECK(sids.count("CA666") == 0);
  CHECK(sids.count("CA667") == 0);
  for (auto s : {"CA1", "CA2", "CA3"})
    CHECK(sids.count(s) == 1);
  // The new leader goes on.
  REQUIRE(b.webhook("voice", "", call("CA4"), "tok-CA4").status == 200);
  CHECK(waiting_sids(b) == std::vector<std::string>{"CA1", "CA2", "CA3", "CA4"});
  CHECK(waiting_sids(a).size() >= 3);  // the old leader follows the log again
}

namespace {

/// Twilio under load: from a thread of its own, one voice webhook after
/// another, CallSids CA<first+1>, CA<first+2>, ..., each retried with its
/// idempotency token until answered 2xx; only a 2xx counts as
/// acknowledged.
class twilio_load {
 public:
  twilio_load(callq_process& p, int first) : thread_([this, &p, first] { run(p, first); }) {}
  ~twilio_load() { stop(); }

  /// Waits until `n` webhooks were acknowledged; false after `seconds`.
  bool wait_acked(size_t n, int seconds) {
    std::unique_lock lock(mu_);
    return more_.wait_for(lock, std::chrono::seconds(seconds), [&] { return acked_.size() >= n; });
  }
  size_t acked_count() {
    std::lock_guard lock(mu_);
    return acked_.size();
  }
  /// How long after `t` the first webhook sent after it was acknowledged;
  /// negative when none was yet.
  double seconds_to_first_ack_after(clock_type::time_point t) {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < acked_.size(); ++i)
      if (sent_[i] >= t)
        return std::chrono::duration<double>(answered_[i] - t).count();
    return -1;
  }
  /// Answers that were not 2xx (each retried).
  int refused() {
    std::lock_guard lock(mu_);
    return refused_;
  }
  /// Stops sending (after the webhook under way); the acknowledged sids.
  std::vector<std::string> stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
    std::lock_guard lock(mu_);
    return acked_;
  }

 private:
  void run(callq_process& p, int first) {
    for (int i = 1; !stop_; ++i) {
      std::string sid = "CA" + std::to_string(first + i);
      while (!stop_) {
        auto sent = clock_type::now();
        int status = p.webhook("voice", "", call(sid), "tok-" + sid).status;
        std::lock_guard lock(mu_);
        if (status == 200) {
          acked_.push_back(sid);
          sent_.push_back(sent);
          answered_.push_back(clock_type::now());
          more_.notify_all();
          break;
        }
        ++refused_;
      }
    }
  }

  std::mutex mu_;
  std::condition_variable more_;
  std::vector<std::string> acked_;
  std::vector<clock_type::time_point> sent_, answered_;  ///< of each acknowledged webhook's last try
  int refused_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;  ///< last: starts once the rest is built
};

/// A throwaway cluster in `dir`/`name` holding a database "callq"; its
/// maintenance URL. The clusters run as the postgres user when the test
/// runs as root: `dir` is opened for it to reach them.
std::string start_cluster(const temp_dir& dir, const std::string& name) {
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all |
                                               std::filesystem::perms::group_exec |
                                               std::filesystem::perms::others_exec);
  std::string why;
  std::string url = pg_cluster_script("start " + dir.path() + "/" + name, &why);
  INFO(why);
  REQUIRE_FALSE(url.empty());
  REQUIRE(pg_run(url, "CREATE DATABASE callq", &why));
  return url;
}

}  // namespace

TEST_CASE("HA: the database primary is killed and its synchronous standby promoted, callq reconnects and every acknowledged event is there") {
  temp_dir dir;
  std::string primary = start_cluster(dir, "primary");
  std::string why;
  std::string standby = pg_cluster_script("standby " + dir.path() + "/primary " + dir.path() + "/standby", &why);
  REQUIRE_FALSE(standby.empty());
  // Synchronous: a commit returns once the standby has it.
  REQUIRE(pg_run(primary, "ALTER SYSTEM SET synchronous_standby_names = 'callq_standby'", &why));
  REQUIRE(pg_run(primary, "SELECT pg_reload_conf()", &why));
  auto host_port = [](const std::string& u) {
    auto at = u.find('@') + 1;
    return u.substr(at, u.find('/', at) - at);
  };
  // A commit now returns once the standby has it: it waits for the standby.
  REQUIRE(pg_run(primary, "CREATE TABLE callq_sync_probe ()", &why));
  std::string url = "postgresql://callq@" + host_port(primary) + "," + host_port(standby) +
                    "/callq?target_session_attrs=read-write&connect_timeout=2";
  fake_twilio tw;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"CALLQ_STORE", url}});
  REQUIRE(p.ready());
  REQUIRE(p.wait_for_output(leads, 10'000));
  std::vector<std::string> acked;
  for (int i = 1; i <= 20; ++i) {
    std::string sid = "CA" + std::to_string(300 + i);
    REQUIRE(p.webhook("voice", "", call(sid), "tok-" + sid).status == 200);
    acked.push_back(sid);
  }
  // The primary dies; the standby is promoted (what Patroni or
  // pg_auto_failover would do).
  std::ifstream pidfile(dir.path() + "/primary/data/postmaster.pid");
  int postmaster = 0;
  pidfile >> postmaster;
  REQUIRE(postmaster > 0);
  REQUIRE(kill(postmaster, SIGKILL) == 0);
  REQUIRE_FALSE(pg_cluster_script("promote " + dir.path() + "/standby", &why).empty());
  // callq loses its lock with the old primary's sessions, then leads again
  // on the new one; what Twilio retried meanwhile is answered then.
  REQUIRE(p.wait_for_output(follows, 30'000));
  REQUIRE(p.wait_for_output(leads, 30'000));
  for (int i = 21; i <= 30; ++i) {
    std::string sid = "CA" + std::to_string(300 + i);
    INFO(sid);
    CHECK(p.webhook("voice", "", call(sid), "tok-" + sid).status == 200);
    acked.push_back(sid);
  }
  auto sids = arrived(log_of("postgresql://callq@" + host_port(standby) + "/callq"));
  CHECK(sids.recorded_twice().empty());
  for (auto& s : acked)
    CHECK(sids.count(s) == 1);
  CHECK(waiting_sids(p).size() == acked.size());
  p.terminate();
  pg_cluster_script("stop " + dir.path() + "/standby");
  pg_cluster_script("stop " + dir.path() + "/primary");
}

TEST_CASE("HA: the database stops at once (pg_ctl -m immediate) under webhook load and restarts: every webhook answered 2xx is in the log once") {
  temp_dir dir;
  std::string db = start_cluster(dir, "db");
  std::string why;
  std::string url = db.substr(0, db.rfind('/')) + "/callq?connect_timeout=2";
  fake_twilio tw;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"CALLQ_STORE", url}});
  REQUIRE(p.ready());
  REQUIRE(p.wait_for_output(leads, 10'000));

  twilio_load twilio(p, 500);
  CHECK(twilio.wait_acked(20, 10));
  // The database stops mid-load, without a checkpoint.
  REQUIRE_FALSE(pg_cluster_script("crash " + dir.path() + "/db", &why).empty());
  size_t at_crash = twilio.acked_count();
  REQUIRE_FALSE(pg_cluster_script("start " + dir.path() + "/db", &why).empty());
  // callq loses its sessions, then leads again once the database is back.
  CHECK(p.wait_for_output(follows, 30'000));
  CHECK(p.wait_for_output(leads, 30'000));
  CHECK(twilio.wait_acked(at_crash + 20, 20));
  auto acked = twilio.stop();
  INFO("acknowledged " << acked.size() << ", refused meanwhile " << twilio.refused());
  CHECK(twilio.refused() > 0);  // Twilio saw the outage: answers waited for the database
  auto sids = arrived(log_of(url));
  CHECK(sids.recorded_twice().empty());
  for (auto& s : acked)
    CHECK(sids.count(s) == 1);
  p.terminate();
  pg_cluster_script("stop " + dir.path() + "/db");
}

TEST_CASE("HA: pg_auto_failover (Debian's packages: a monitor, two synchronous nodes) promotes the standby when the primary node dies under webhook load: every webhook answered 2xx is in the log once") {
  temp_dir dir;
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all |
                                               std::filesystem::perms::group_exec |
                                               std::filesystem::perms::others_exec);
  const std::string formation = dir.path() + "/formation";
  std::string why;
  std::string url = pg_auto_failover_script("start " + formation, &why);
  INFO(why);
  REQUIRE(url.rfind("postgresql://", 0) == 0);
  std::string first = pg_auto_failover_script("primary " + formation, &why);
  REQUIRE((first == "1" || first == "2"));
  fake_twilio tw;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"CALLQ_STORE", url}});
  REQUIRE(p.ready());
  REQUIRE(p.wait_for_output(leads, 10'000));

  twilio_load twilio(p, 700);
  CHECK(twilio.wait_acked(20, 10));
  // The primary node dies, its pg_autoctl keeper with its postmaster (a
  // postmaster killed alone is restarted in place by its keeper, with no
  // failover). The monitor promotes the synchronous standby; the old
  // primary, run again, rejoins as its standby.
  REQUIRE(pg_auto_failover_script("kill-primary " + formation, &why) == first);
  auto killed_at = clock_type::now();  // a webhook sent from now on needs the new primary
  size_t at_kill = twilio.acked_count();
  std::string other = first == "1" ? "2" : "1";
  CHECK(pg_auto_failover_script("wait-promoted " + formation + " " + other + " 60", &why) == other);
  // callq lost its sessions, and leads again on the new primary.
  CHECK(p.wait_for_output(follows, 30'000));
  CHECK(p.wait_for_output(leads, 60'000));
  CHECK(twilio.wait_acked(at_kill + 20, 60));
  double first_ack = twilio.seconds_to_first_ack_after(killed_at);
  CHECK(first_ack > 0);
  std::cout << "pg_auto_failover: first 2xx " << first_ack << " s after the primary died\n";
  CHECK(pg_auto_failover_script("restart " + formation + " " + first, &why) == first);
  CHECK(pg_auto_failover_script("wait-primary " + formation + " " + other + " 60", &why) == other);
  CHECK(twilio.wait_acked(twilio.acked_count() + 10, 30));
  auto acked = twilio.stop();
  INFO("acknowledged " << acked.size() << " (" << at_kill << " before the kill), refused meanwhile "
                       << twilio.refused() << "; first 2xx " << first_ack << " s after the kill");
  auto sids = arrived(log_of(url));
  CHECK(sids.recorded_twice().empty());
  for (auto& s : acked)
    CHECK(sids.count(s) == 1);
  p.terminate();
  pg_auto_failover_script("stop " + formation);
}
