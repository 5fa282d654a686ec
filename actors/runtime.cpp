#include "actors/runtime.hpp"

#include <sys/statvfs.h>

#include <chrono>
#include <random>
#include <utility>

#include <caf/scheduler/test_coordinator.hpp>

#include <caf/all.hpp>

#include "actors/agent/agent_actor.hpp"
#include "actors/agent/agent_logic.hpp"
#include "actors/call/call_actor.hpp"
#include "actors/dispatcher/dispatcher_actor.hpp"
#include "actors/entity_env.hpp"
#include "actors/gateway/gateway_actor.hpp"
#include "actors/journal/journal_actor.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/reply_codec.hpp"
#include "actors/supervisor.hpp"
#include "actors/timer_actor.hpp"
#include "replay/rebuild.hpp"
#include "replay/snapshot.hpp"

namespace callq {

struct runtime::impl {
  impl(int threads, bool deterministic)
      : cfg(make_config(threads, deterministic)), system(cfg) {}
  static caf::actor_system_config make_config(int threads, bool deterministic) {
    caf::actor_system_config c;
    c.set("scheduler.max-threads", threads);
    c.set("scheduler.policy", deterministic ? caf::atom("testing") : caf::atom("sharing"));
    return c;
  }
  caf::actor_system_config cfg;
  caf::actor_system system;
  std::shared_ptr<entity_env> env;
  caf::actor supervisor;  ///< watches the journal, dispatcher, timers and gateway
  /// Deterministic mode: runs every pending message, in a seeded order.
  std::function<void()> pump;
};

namespace {

constexpr auto ask_timeout = std::chrono::seconds(10);

/// CAF 0.17 keeps, per thread, a counted reference to the logger of the
/// last actor system the thread made or used through a scoped_actor, and
/// an actor system's destructor waits until its logger is destroyed. A
/// thread that used one system and lives on (an HTTP worker, the role
/// thread) would make a later teardown (stepping down, recovering from a
/// full disk) wait forever: every such thread lets go once it is done.
void forget_actor_system() { caf::logger::set_current_actor_system(nullptr); }

/// One request from a non-actor thread, waiting for its answer (in
/// deterministic mode, `pump` first runs everything it causes).
template <class T, class... Ts>
bool request(caf::actor_system& sys, const std::function<void()>& pump, const caf::actor& to,
             T* out, std::string* why, Ts&&... msg) {
  bool ok = false;
  {
    caf::scoped_actor self{sys};
    auto handle = self->request(to, ask_timeout, std::forward<Ts>(msg)...);
    if (pump)
      pump();
    handle.receive(
        [&](T& v) {
          *out = std::move(v);
          ok = true;
        },
        [&](caf::error& err) { *why = sys.render(err); });
  }
  forget_actor_system();
  return ok;
}

/// The stand-in for the Twilio gateway in tests and benchmarks.
caf::behavior recording_gateway(caf::event_based_actor*,
                                std::function<void(const rest_job&)> sink) {
  return {[=](rest_job& j) { sink(j); }};
}

}  // namespace

status runtime::start(const runtime_options& opts, std::unique_ptr<runtime>* out,
                      startup_report* report) {
  std::unique_ptr<runtime> rt(new runtime);
  rt->opts_ = opts;
  storage::log_options lo;
  lo.idempotency_ttl_ms = opts.idempotency_ttl_ms;
  lo.keep_snapshots = opts.keep_snapshots;
  lo.rocksdb_env = opts.storage_env;
  std::unique_ptr<storage::event_log> log;
  if (auto st = storage::event_log::open_store(opts.store, opts.data_dir, lo, &log); !st)
    return st;
  rt->log_ = std::move(log);
  if (opts.clock) {
    rt->manual_clock_ = opts.clock;
    rt->clock_ = rt->manual_clock_;
  } else if (opts.virtual_clock) {
    rt->manual_clock_ = std::make_shared<manual_clock_source>(system_clock_source().now_ms());
    rt->clock_ = rt->manual_clock_;
  } else {
    rt->clock_ = std::make_shared<system_clock_source>();
  }
  rt->journal_stats_ = std::make_shared<journal_stats>();
  rt->load_ = opts.overload_lag_ms > 0
                  ? std::make_shared<load_gauge>(opts.overload_lag_ms * 1000, opts.overload_lag_ms * 400)
                  : std::make_shared<load_gauge>(INT64_MAX, INT64_MAX);
  rt->gateway_stats_ = std::make_shared<gateway_stats>();
  rt->snapshot_stats_ = std::make_shared<snapshot_stats>();
  rt->health_ = std::make_shared<storage_health>();
  rt->health_->set_floor(opts.disk.floor_bytes);
  rt->snapshots_ = std::make_shared<snapshot_writer>(rt->log_, opts.rules, rt->snapshot_stats_);
  if (opts.follower) {
    // A follower of a shared log: warm state, no actors, until lead().
    rt->leading_ = false;
    startup_report rep;
    world w(opts.rules);
    if (auto st = rt->load_world(&w, &rep); !st)
      return st;
    rep.calls = w.calls().size();
    rep.agents = w.agents().size();
    rt->reads_ = std::make_shared<read_model>(std::move(w));
    if (report != nullptr)
      *report = std::move(rep);
    rt->role_thread_ = std::thread([r = rt.get()] { r->run_role(); });
  } else if (auto st = rt->boot(report); !st) {
    return st;
  }
  rt->measure_disk();
  if (opts.disk_check_ms > 0)
    rt->watcher_ = std::thread([r = rt.get()] { r->watch_disk(); });
  *out = std::move(rt);
  return status::ok();
}

status runtime::boot(startup_report* report) {
  startup_report rep;
  world w(opts_.rules);
  if (auto st = load_world(&w, &rep); !st)
    return st;
  return spawn(std::move(w), std::move(rep), report);
}

status runtime::load_world(world* out, startup_report* report) {
  const runtime_options& opts = opts_;
  startup_report& rep = *report;
  storage::chain_head head;
  if (log_->recorded_head(&head) && head.seq > log_->last_seq())
    rep.warnings.push_back("the log ends at event " + std::to_string(log_->last_seq()) +
                           ", but its end was recorded at event " + std::to_string(head.seq) +
                           ": events were removed (run callq verify)");

  // The newest valid snapshot, then one pass over the tail, rebuilds every
  // entity with its own apply code.
  auto t0 = std::chrono::steady_clock::now();
  world w(opts.rules);
  replay::snapshot_load sl;
  if (auto st = replay::load_newest_snapshot(*log_, opts.rules, 0, 0, &w, &sl); !st)
    return status::corruption("cannot read snapshots in " + log_->where() + ": " + st.message());
  for (auto& s : sl.skipped)
    rep.warnings.push_back("skipped " + s);
  rep.snapshot_seq = sl.loaded ? sl.info.seq : 0;
  replay::rebuild_report rr;
  if (auto st = replay::rebuild(*log_, w, {}, &rr); !st)
    return status::corruption("cannot rebuild state from " + log_->where() + ": " + st.message());
  rep.events_replayed = rr.events;
  rep.replay_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  *out = std::move(w);
  return status::ok();
}

status runtime::spawn(world w, startup_report rep, startup_report* report) {
  const runtime_options& opts = opts_;
  // The actor system is made on this thread, which may live on (see
  // forget_actor_system).
  struct forget_on_return {
    ~forget_on_return() { forget_actor_system(); }
  } forget;
  std::vector<call_state> calls;
  std::vector<agent_state> agents;
  calls.reserve(w.calls().size());
  for (auto& [sid, c] : w.calls())
    calls.push_back(c);
  for (auto& [id, a] : w.agents())
    agents.push_back(a);
  rep.calls = calls.size();
  rep.agents = agents.size();
  if (report != nullptr)
    *report = std::move(rep);

  auto ids = std::make_shared<id_source>();
  ids->seed(w.counters().call_order, std::max(w.counters().offer, w.counters().offer_reserved),
            w.counters().callback);
  dispatcher_start ds;
  ds.configs = w.queue_configs();
  ds.last_offered = w.last_offered();
  ds.seed = opts.deterministic ? std::max<uint64_t>(opts.seed, 1) : std::random_device{}();
  if (reads_)
    reads_->reset(std::move(w));
  else
    reads_ = std::make_shared<read_model>(std::move(w));
  impl_ = std::make_unique<impl>(opts.scheduler_threads, opts.deterministic);
  auto& sys = impl_->system;
  if (opts.deterministic) {
    auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
    auto rng = std::make_shared<std::mt19937>(opts.seed);
    uint32_t seed = opts.seed;
    impl_->pump = [&sched, rng, seed] {
      while (sched.has_job()) {
        if (seed != 0 && sched.jobs.size() > 1) {
          std::uniform_int_distribution<size_t> pick(0, sched.jobs.size() - 1);
          std::swap(sched.jobs.front(), sched.jobs[pick(*rng)]);
        }
        sched.run_once();
      }
    };
  }
  const auto& pump = impl_->pump;

  auto env = std::make_shared<entity_env>();
  env->rules = opts.rules;
  env->clock = clock_;
  env->reg = std::make_shared<registry>();
  env->reads = reads_;
  env->ids = ids;
  env->load = load_;
  journal_options jo;
  jo.reads = reads_;
  jo.detached = !opts.deterministic;
  jo.sync = !opts.deterministic;
  jo.wait_for_more = !opts.deterministic;
  jo.snapshots = snapshots_;
  jo.snapshot_every_events = opts.snapshot_every_events;
  jo.snapshot_figures = snapshot_stats_;
  jo.health = health_;
  env->journal = spawn_journal(sys, log_, journal_stats_, jo);
  auto reg = env->reg;
  if (opts.rest_sink) {
    env->gateway = sys.spawn(recording_gateway, opts.rest_sink);
  } else if (opts.deterministic) {
    auto jobs = opts.recorded_jobs;
    env->gateway = sys.spawn(recording_gateway, [jobs](const rest_job& j) {
      if (jobs)
        jobs->push_back(j);
    });
  } else
    env->gateway = spawn_gateway(sys, opts.gateway, gateway_stats_, [reg](const cmd::command& c) {
    // A REST job that finally failed goes to the call it was for.
    std::string id;
    if (auto* r = std::get_if<cmd::redirect_failed>(&c))
      id = r->offer_id;
    else if (auto* f = std::get_if<cmd::callback_call_failed>(&c))
      id = f->callback_id;
    caf::actor call = reg->call(reg->call_of_offer(id));
    if (!call)
      return;
    if (auto* r = std::get_if<cmd::redirect_failed>(&c))
      caf::anon_send(call, command_atom::value, call_request{*r, {}});
    else
      caf::anon_send(call, command_atom::value,
                     call_request{std::get<cmd::callback_call_failed>(c), {}});
  });
  env->dispatcher = spawn_dispatcher(sys, env, std::move(ds));
  timer_options to;
  to.beat_ms = opts.virtual_clock || opts.clock || opts.deterministic ? 0 : opts.tick_ms;
  to.journal_figures = journal_stats_;
  to.load = load_;
  env->timers = spawn_timers(sys, env, to);
  impl_->env = env;
  impl_->supervisor = spawn_supervisor(
      sys,
      {{"journal", env->journal}, {"dispatcher", env->dispatcher}, {"timers", env->timers},
       {"gateway", env->gateway}},
      [this](const std::string& what, const std::string& why) { on_crash(what, why); });

  // The actors, from the rebuilt states; then the dispatcher's index.
  bool spawned = false;
  for (auto& a : agents) {
    auto h = reg->agent_or_spawn(a.id, [&] { return spawn_agent(sys, env, a); }, &spawned);
    caf::anon_send(env->dispatcher, view_atom::value, view_of(a, env->rules));
    if (int64_t due = next_deadline(a, env->rules))
      caf::anon_send(env->timers, schedule_atom::value, h, due);
  }
  for (auto& c : calls) {
    auto h = reg->call_or_spawn(c.sid, [&] { return spawn_call(sys, env, c); }, &spawned);
    for (auto& id : {c.offer_id, c.callback_id})
      if (!id.empty())
        reg->add_offer(id, c.sid);
    caf::anon_send(env->dispatcher, view_atom::value, view_of(c, env->rules));
    queue_config config = reads_->read([&](const world& w) { return w.config_of(c.queue); });
    if (int64_t due = next_deadline(c, env->rules, config))
      caf::anon_send(env->timers, schedule_atom::value, h, due);
  }
  reply r;
  std::string why;
  if (!request(sys, pump, env->timers, &r, &why, recover_atom::value, opts.version))
    return status::io_error("recovery failed: " + why);
  return status::ok();
}

void runtime::teardown() {
  auto& env = *impl_->env;
  caf::anon_send_exit(impl_->supervisor, caf::exit_reason::user_shutdown);
  for (auto& a : env.reg->all_calls())
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  for (auto& a : env.reg->all_agents())
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  for (auto* a : {&env.timers, &env.dispatcher, &env.gateway, &env.journal})
    caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
  if (impl_->pump)  // the test scheduler runs only when told to
    impl_->pump();
  impl_->env.reset();
  impl_.reset();  // waits for the actors
}

void runtime::measure_disk() {
  // The file system of the log; none to watch for a PostgreSQL log (its
  // server watches its own disk).
  std::string dir = log_ ? log_->local_dir() : opts_.data_dir;
  struct statvfs fs {};
  if (dir.empty() || statvfs(dir.c_str(), &fs) != 0)
    return;
  int64_t free = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
  bool was_low = health_->disk_low(), was_reserve = health_->reserve_reached();
  health_->measured(free, opts_.disk.low_bytes, opts_.disk.reserve_bytes);
  auto mib = [](int64_t b) { return std::to_string(b >> 20) + " MiB"; };
  if (health_->disk_low() && !was_low)
    log_line(log_level::warn, mib(free) + " free on the data directory's file system, under CALLQ_DISK_LOW (" +
                             mib(opts_.disk.low_bytes) + ")");
  if (health_->reserve_reached() && !was_reserve)
    log_line(log_level::warn, mib(free) + " free, under CALLQ_DISK_RESERVE (" +
                             mib(opts_.disk.reserve_bytes) +
                             "): new incoming calls are refused; calls already waiting go on");
  if (!health_->reserve_reached() && was_reserve)
    log_line(log_level::info, mib(free) + " free again: new incoming calls are accepted");
}

status runtime::check_storage() {
  measure_disk();
  if (health_->writable() || !leading_)
    return status::ok();
  if (health_->free_bytes() >= 0 && health_->free_bytes() < health_->floor_bytes())
    return status::io_error("still no space");
  std::unique_lock lock(life_mu_);
  if (stopped_ || health_->writable())
    return status::ok();
  // The journal writes nothing while the log is not writable, so RocksDB
  // can be resumed from here (a no-op when the journal refused the append
  // before RocksDB saw it, the usual case).
  if (auto st = log_->resume(); !st) {
    if (st.is_fenced()) {  // another callq leads the shared log now
      demote_locked(st.message());
      return st;
    }
    health_->failed("the event log met a write error it cannot resume from in-process (" +
                    st.message() + "); restart callq once space is freed");
    return st;
  }
  // Some actors applied events that never became durable: rebuild every
  // actor from the durable log, as a restart would.
  if (impl_)
    teardown();
  // Writable again before the actors start: their recovery appends. No
  // request runs meanwhile (this thread holds life_mu_).
  health_->recovered();
  startup_report rep;
  if (auto st = boot(&rep); !st) {
    log_line(log_level::error, "rebuilding state after the log became writable failed: " + st.message());
    health_->failed("rebuilding state failed: " + st.message());
    if (impl_)
      teardown();
    return st;
  }
  log_line(log_level::info,
      "the event log is writable again; state rebuilt from " +
          (rep.snapshot_seq ? "the snapshot at event " + std::to_string(rep.snapshot_seq) + " and "
                            : std::string()) +
          std::to_string(rep.events_replayed) + " events");
  return status::ok();
}

void runtime::watch_disk() {
  std::unique_lock lock(watch_mu_);
  while (!watch_stop_) {
    crashed_ = false;
    lock.unlock();
    check_storage();
    lock.lock();
    watch_cv_.wait_for(lock, std::chrono::milliseconds(opts_.disk_check_ms),
                       [&] { return watch_stop_ || crashed_; });
  }
}

void runtime::on_crash(const std::string& what, const std::string& why) {
  std::string text = "the " + what + " actor stopped unexpectedly (" + why +
                     "); writes are refused until every actor is rebuilt from the log";
  log_line(log_level::error, text);
  health_->failed(text);
  {
    std::lock_guard lock(watch_mu_);
    crashed_ = true;
  }
  watch_cv_.notify_all();
}

status runtime::crash_for_test(const std::string& which) {
  std::shared_lock life(life_mu_);
  if (!impl_)
    return status::not_supported("no actors run");
  auto& env = *impl_->env;
  caf::actor* a = which == "journal"      ? &env.journal
                  : which == "dispatcher" ? &env.dispatcher
                  : which == "timers"     ? &env.timers
                  : which == "gateway"    ? &env.gateway
                                          : nullptr;
  if (a == nullptr)
    return status::invalid_argument("no actor called " + which);
  caf::anon_send_exit(*a, caf::exit_reason::kill);
  if (impl_->pump)
    impl_->pump();
  return status::ok();
}

actor_counts runtime::actors() const {
  std::shared_lock life(life_mu_);
  if (!impl_)
    return {};
  return {impl_->env->reg->live_calls(), impl_->env->reg->live_agents()};
}

std::map<std::string, std::string> runtime::entity_digests() {
  std::shared_lock life(life_mu_);
  std::map<std::string, std::string> out;
  auto& env = *impl_->env;
  auto actors = env.reg->all_calls();
  for (auto& a : env.reg->all_agents())
    actors.push_back(a);
  for (auto& a : actors) {
    std::string text, why;
    if (request(impl_->system, impl_->pump, a, &text, &why, digest_atom::value))
      out[text.substr(0, text.find('|'))] = text;
  }
  return out;
}

namespace {

/// Finds the actor a command belongs to and asks it.
struct router {
  caf::actor_system& sys;
  const std::function<void()>& pump;
  entity_env& env;
  const std::string& key;
  const storage::event_log& log;

  reply ask_call(const caf::actor& a, call_command c, std::string k = {}) {
    reply r;
    std::string why;
    if (!request(sys, pump, a, &r, &why, command_atom::value, call_request{std::move(c), std::move(k)}))
      return reply::fail(outcome::unavailable, "call unavailable: " + why);
    return r;
  }
  reply ask_agent(const caf::actor& a, agent_command c) {
    reply r;
    std::string why;
    if (!request(sys, pump, a, &r, &why, command_atom::value, agent_request{std::move(c)}))
      return reply::fail(outcome::unavailable, "agent unavailable: " + why);
    return r;
  }
  /// A command for the call `sid` (live, or recently finished).
  reply to_call(const std::string& sid, call_command c, const std::string& unknown) {
    if (caf::actor a = env.reg->call(sid)) {
      reply r = ask_call(a, c, key);
      // The call finished and its actor stopped between the lookup and
      // the ask: answer as for any finished call.
      if (r.result == outcome::unavailable)
        if (auto final = env.reg->finished(sid))
          return answer_finished(*final, c, env);
      return r;
    }
    if (auto final = env.reg->finished(sid))
      return answer_finished(*final, c, env);
    return reply::fail(outcome::invalid, unknown);
  }
  reply to_offer(const std::string& id, call_command c, const std::string& what) {
    std::string sid = env.reg->call_of_offer(id);
    if (sid.empty())
      return reply::fail(outcome::invalid, "unknown " + what + " " + id);
    return to_call(sid, std::move(c), "unknown " + what + " " + id);
  }
  template <class... Ts> reply ask_service(const caf::actor& a, const char* what, Ts... msg) {
    reply r;
    std::string why;
    if (!request(sys, pump, a, &r, &why, msg...))
      return reply::fail(outcome::unavailable, std::string(what) + " unavailable: " + why);
    return r;
  }

  reply operator()(cmd::incoming_call& x) {
    if (!env.reg->call(x.call_sid) && !env.reg->finished(x.call_sid)) {
      // Unknown to the registry: new, or finished long ago (purged, or
      // before a restart). Its own stream says which; a finished call
      // gets the answer its final state gives, never a second arrival.
      // (A read on this HTTP thread, never under the registry's lock.)
      call_state past;
      events::call_arrived first;
      first.call_sid = x.call_sid;
      if (auto st = log.read_stream(events::stream_of(first),
                                    [&](const events::envelope& e) {
                                      apply(past, e.ev);
                                      return true;
                                    });
          !st)
        return reply::fail(outcome::unavailable, "event log unavailable: " + st.message());
      if (past.version > 0)
        return answer_finished(std::move(past), x, env);
    }
    auto found = env.reg->find_or_spawn_call(
        x.call_sid, [&] { return spawn_call(sys, env_ptr(), call_state{}); });
    if (found.finished)  // a late retry, or one racing the call's end
      return answer_finished(*found.finished, x, env);
    reply r = ask_call(found.actor, x, key);
    if (r.result == outcome::unavailable)  // it finished and stopped meanwhile
      if (auto final = env.reg->finished(x.call_sid))
        return answer_finished(*final, x, env);
    return r;
  }
  reply operator()(cmd::hold_poll& x) { return to_call(x.call_sid, x, "unknown call " + x.call_sid); }
  reply operator()(cmd::callback_response& x) {
    return to_call(x.call_sid, x, "unknown call " + x.call_sid);
  }
  reply operator()(cmd::queue_left& x) { return to_call(x.call_sid, x, "unknown call " + x.call_sid); }
  reply operator()(cmd::call_status& x) {
    reply r = to_call(x.call_sid, x, "unknown call");
    if (r.result == outcome::invalid)  // a status for a call we never had
      return reply::twiml({voice_reply::kind::empty});
    return r;
  }
  reply operator()(cmd::connect_agent& x) { return to_offer(x.offer_id, x, "offer"); }
  reply operator()(cmd::agent_leg_status& x) { return to_offer(x.offer_id, x, "offer"); }
  reply operator()(cmd::dial_result& x) { return to_offer(x.offer_id, x, "offer"); }
  reply operator()(cmd::redirect_failed& x) { return to_offer(x.offer_id, x, "offer"); }
  reply operator()(cmd::callback_connect& x) { return to_offer(x.callback_id, x, "callback"); }
  reply operator()(cmd::callback_result& x) { return to_offer(x.callback_id, x, "callback"); }
  reply operator()(cmd::callback_call_failed& x) { return to_offer(x.callback_id, x, "callback"); }
  reply operator()(cmd::heartbeat& x) {
    caf::actor a = env.reg->agent(x.agent_id);
    if (!a)
      return reply::fail(outcome::not_found, "unknown agent " + x.agent_id);
    return ask_agent(a, std::move(x));
  }
  reply operator()(cmd::put_agent& x) {
    bool spawned = false;
    auto a = env.reg->agent_or_spawn(
        x.agent_id, [&] { return spawn_agent(sys, env_ptr(), agent_state{}); }, &spawned);
    return ask_agent(a, std::move(x));
  }
  reply operator()(cmd::delete_agent& x) {
    caf::actor a = env.reg->agent(x.agent_id);
    if (!a)
      return reply::fail(outcome::not_found, "unknown agent " + x.agent_id);
    return ask_agent(a, std::move(x));
  }
  reply operator()(cmd::schedule_callback& x) {
    x.callback_id = env.ids->next_callback_id();
    bool spawned = false;
    auto a = env.reg->call_or_spawn(
        x.callback_id, [&] { return spawn_call(sys, env_ptr(), call_state{}); }, &spawned);
    return ask_call(a, std::move(x));
  }
  reply operator()(cmd::cancel_callback& x) {
    if (env.reg->call_of_offer(x.callback_id).empty()) {
      // Long finished (its actor and final state are gone): the read
      // model may still list it.
      auto phase = env.reads->read([&](const world& w) -> std::optional<call_phase> {
        const callback_view* cb = w.find_callback(x.callback_id);
        return cb != nullptr ? std::optional<call_phase>(cb->phase) : std::nullopt;
      });
      if (phase)
        return reply::fail(outcome::conflict, cancel_refusal(x.callback_id, *phase));
      return reply::fail(outcome::not_found, "unknown callback " + x.callback_id);
    }
    return to_offer(x.callback_id, x, "callback");
  }
  reply operator()(cmd::put_caller& x) {
    // The caller directory's streams are written here, by the admin path.
    journal_batch b;
    b.events.push_back({env.clock->now_ms(), events::caller_set{x.number, x.display_name, x.priority}});
    uint64_t seq = 0;
    std::string why;
    if (!request(sys, pump, env.journal, &seq, &why, append_atom::value, std::move(b)))
      return reply::fail(outcome::unavailable, "event log unavailable: " + why);
    return reply::of(caller_answer{x.number, x.display_name, x.priority});
  }
  reply operator()(cmd::put_queue& x) {
    return ask_service(env.dispatcher, "dispatcher", command_atom::value, queue_request{x});
  }
  reply operator()(cmd::delete_queue& x) {
    return ask_service(env.dispatcher, "dispatcher", command_atom::value, queue_request{x});
  }
  reply operator()(cmd::tick&) {
    return ask_service(env.timers, "timers", tick_atom::value);
  }
  reply operator()(cmd::sweep&) {
    return ask_service(env.dispatcher, "dispatcher", sweep_atom::value);
  }
  reply operator()(cmd::heartbeat_cleanup&) {
    return ask_service(env.timers, "timers", expire_atom::value);
  }
  reply operator()(cmd::queue_cleanup&) {
    return ask_service(env.timers, "timers", cleanup_atom::value);
  }
  reply operator()(cmd::recover& x) {
    return ask_service(env.timers, "timers", recover_atom::value, x.version);
  }
  reply operator()(cmd::record_digest&) {
    std::string digest, why;
    if (!request(sys, pump, env.timers, &digest, &why, digest_atom::value))
      return reply::fail(outcome::unavailable, "digest failed: " + why);
    return reply{};
  }

  std::shared_ptr<entity_env> env_ptr();
  std::shared_ptr<entity_env> shared;
};

std::shared_ptr<entity_env> router::env_ptr() { return shared; }

}  // namespace

reply runtime::ask(cmd::command c, const std::string& idempotency_key) {
  std::shared_lock life(life_mu_);
  if (stopped_)
    return reply::fail(outcome::unavailable, "server is shutting down");
  if (!leading_)
    return reply::fail(outcome::unavailable,
                       "this callq is a follower: another callq leads the shared event log "
                       "(GET /healthz/leader answers 200 there); nothing was changed; retry");
  if (!health_->writable() || !impl_)
    return reply::fail(outcome::unavailable,
                       "the event log cannot be written (" + health_->reason() +
                           "); nothing was changed; retry once space is freed");
  // A retry of a request whose events are durable: its stored answer, read
  // here on the caller's thread rather than in an actor.
  std::string stored;
  voice_reply v;
  if (!idempotency_key.empty() && log_->get_idempotency(idempotency_key, clock_->now_ms(), &stored) &&
      decode_voice_reply(stored, &v))
    return reply::twiml(v);
  auto& sys = impl_->system;
  auto& env = *impl_->env;
  const auto& pump = impl_->pump;
  if (auto* x = std::get_if<cmd::incoming_call>(&c); x && !env.reg->call(x->call_sid)) {
    if (health_->reserve_reached())
      return reply::fail(outcome::unavailable,
                         "free disk space is under CALLQ_DISK_RESERVE: new calls are refused "
                         "so that calls already waiting can be connected");
    // Overload is refused, not absorbed: a new call is turned away (Twilio
    // plays the number's fallback) while the actors run behind, so that
    // the calls already admitted are still connected in time.
    if (load_->overloaded()) {
      load_->refused();
      return reply::fail(outcome::unavailable,
                         "overloaded: the actors run " + std::to_string(load_->lag_us() / 1000) +
                             " ms behind (CALLQ_OVERLOAD_LAG " +
                             std::to_string(load_->refuse_us() / 1000) +
                             " ms); new calls are refused until they catch up");
    }
  }
  // Causal completion: the actor answers once the events this command
  // caused are durable -- its own, and those of every actor it asked and
  // waited for (actors/answer_after.hpp) -- never waiting for unrelated
  // work (other reservations, other appends) to drain.
  router r{sys, pump, env, idempotency_key, *log_, impl_->env};
  return std::visit(r, c);
}

status runtime::advance_clock(int64_t ms) {
  if (!manual_clock_)
    return status::not_supported("the clock is not virtual");
  manual_clock_->advance(ms);
  ask(cmd::tick{});
  ask(cmd::sweep{});
  return status::ok();
}

void runtime::lead(int64_t epoch) {
  {
    std::lock_guard lock(role_mu_);
    want_epoch_ = epoch;
  }
  role_cv_.notify_all();
}

void runtime::step_down(const std::string& why) {
  {
    std::lock_guard lock(role_mu_);
    want_down_ = true;
    want_epoch_ = 0;  // a lost leadership cancels a promotion not yet done
    down_why_ = why;
  }
  role_cv_.notify_all();
}

status runtime::follow() {
  uint64_t from = reads_->read([](const world& w) { return w.last_seq(); }) + 1;
  std::vector<events::event> batch;
  uint64_t first = from;
  auto flush = [&] {
    if (!batch.empty())
      reads_->apply(first, batch);
    batch.clear();
  };
  auto st = log_->scan(from, [&](const events::envelope& e) {
    if (batch.empty())
      first = e.seq;
    batch.push_back(e.ev);
    if (batch.size() >= 1000)
      flush();
    return true;
  });
  flush();
  return st;
}

void runtime::run_role() {
  std::string last_problem;
  for (;;) {
    int64_t epoch = 0;
    bool down = false;
    std::string why;
    {
      std::lock_guard lock(role_mu_);
      if (role_stop_)
        return;
      epoch = std::exchange(want_epoch_, 0);
      down = std::exchange(want_down_, false);
      why = down_why_;
    }
    if (down && leading_) {
      std::unique_lock life(life_mu_);
      if (!stopped_)
        demote_locked(why);
    }
    if (epoch != 0 && !leading_) {
      std::unique_lock life(life_mu_);
      if (!stopped_)
        promote_locked(epoch);
      if (!leading_) {  // failed: try again in a second, while still elected
        std::unique_lock lock(role_mu_);
        if (role_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return role_stop_ || want_down_; }))
          continue;
        if (want_epoch_ == 0)
          want_epoch_ = epoch;
      }
      continue;
    }
    if (!leading_) {
      // Following: woken by the leader's NOTIFY, or every 250 ms anyway.
      log_->wait_for_appends(250);
      std::shared_lock life(life_mu_);
      if (leading_ || stopped_)
        continue;
      if (auto st = follow(); !st && st.message() != last_problem) {
        log_line(log_level::warn, "following the log: " + st.message());
        last_problem = st.message();
      } else if (st) {
        last_problem.clear();
      }
      continue;
    }
    std::unique_lock lock(role_mu_);
    role_cv_.wait_for(lock, std::chrono::milliseconds(250),
                      [&] { return role_stop_ || want_epoch_ != 0 || want_down_; });
  }
}

void runtime::promote_locked(int64_t epoch) {
  auto t0 = std::chrono::steady_clock::now();
  log_->fence_with(epoch);
  status st = log_->resume();  // the log's end as it is now, others' appends included
  if (st)
    st = follow();  // the warm state catches up to the last durable event
  if (!st) {
    log_line(log_level::error, "cannot take the lead (epoch " + std::to_string(epoch) + "): " +
                                   st.message());
    return;
  }
  world w = reads_->read([](const world& x) { return x; });
  uint64_t at = w.last_seq();
  if (!health_->writable())
    health_->recovered();
  startup_report rep;
  if (st = spawn(std::move(w), rep, &rep); !st) {
    log_line(log_level::error, "cannot take the lead (epoch " + std::to_string(epoch) + "): " +
                                   st.message());
    if (impl_)
      teardown();
    return;
  }
  leading_ = true;
  if (opts_.on_role)
    opts_.on_role(true);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log_line(log_level::info, "leading the shared event log (epoch " + std::to_string(epoch) +
                                "): took over at event " + std::to_string(at) + " with " +
                                std::to_string(rep.calls) + " calls and " + std::to_string(rep.agents) +
                                " agents in " + std::to_string(secs) + " s");
}

void runtime::demote_locked(const std::string& why) {
  if (impl_)
    teardown();
  leading_ = false;
  if (!health_->writable())
    health_->recovered();  // a follower writes nothing; leading again starts afresh
  log_line(log_level::warn, "no longer leading: " + why + "; following the log");
  if (opts_.on_role)
    opts_.on_role(false);
}

void runtime::stop() {
  if (role_thread_.joinable()) {
    {
      std::lock_guard lock(role_mu_);
      role_stop_ = true;
    }
    role_cv_.notify_all();
    role_thread_.join();
  }
  if (watcher_.joinable()) {
    {
      std::lock_guard lock(watch_mu_);
      watch_stop_ = true;
    }
    watch_cv_.notify_all();
    watcher_.join();
  }
  if (stopped_ || !log_)
    return;
  bool writable = health_->writable() && impl_;
  if (writable)
    ask(cmd::record_digest{});
  std::unique_lock life(life_mu_);
  stopped_ = true;
  if (impl_)
    teardown();
  if (!writable) {  // state may be ahead of the log: no snapshot of it
    snapshots_.reset();
    log_.reset();
    return;
  }
  // A snapshot of the final state: the next start replays nothing. (The
  // log records its chain head when it closes.)
  if (snapshots_ && log_ && log_->last_seq() > 0) {
    auto [img, ts] = reads_->read([&](const world& w) {
      events::envelope last;
      int64_t at = log_->get(w.last_seq(), &last) ? last.ev.ts_ms : 0;
      return std::make_pair(w.image(), at);
    });
    if (img.last_seq > 0)
      snapshots_->write_now(std::move(img), ts);
  }
  snapshots_.reset();
  log_.reset();
}

runtime::~runtime() { stop(); }

}  // namespace callq
