#include "actors/runtime.hpp"

#include <malloc.h>

#include <random>

#include <caf/scheduler/test_coordinator.hpp>

#include <caf/all.hpp>

#include "actors/agent/agent_actor.hpp"
#include "actors/agent/agent_logic.hpp"
#include "actors/call/call_actor.hpp"
#include "actors/call/call_logic.hpp"
#include "actors/dispatcher/dispatcher_actor.hpp"
#include "actors/gateway/gateway_actor.hpp"
#include "actors/journal/journal_actor.hpp"
#include "actors/messages.hpp"
#include "actors/supervisor.hpp"
#include "actors/timer_actor.hpp"
#include "actors/world/rebuild.hpp"
#include "actors/world/snapshot.hpp"

#include "actors/runtime_internal.hpp"

namespace callq {

using namespace runtime_detail;

namespace {

/// The stand-in for the Twilio gateway in tests and benchmarks.
caf::behavior recording_gateway(caf::event_based_actor*,
                                std::function<void(const rest_job&)> sink) {
  return {[=](rest_job& j) { sink(j); }};
}

}  // namespace

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
  snapshot_load sl;
  if (auto st = load_newest_snapshot(*log_, opts.rules, 0, 0, &w, &sl); !st)
    return status::corruption("cannot read snapshots in " + log_->where() + ": " + st.message());
  for (auto& s : sl.skipped)
    rep.warnings.push_back("skipped " + s);
  rep.snapshot_seq = sl.loaded ? sl.info.seq : 0;
  rebuild_report rr;
  if (auto st = rebuild(*log_, w, {}, &rr); !st)
    return status::corruption("cannot rebuild state from " + log_->where() + ": " + st.message());
  rep.events_replayed = rr.events;
  rep.replay_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  *out = std::move(w);
  return status::ok();
}

status runtime::spawn(world w, startup_report rep, startup_report* report) {
  const runtime_options& opts = opts_;
  auto t0 = std::chrono::steady_clock::now();
  // The actor system is made on this thread, which may live on (see
  // forget_actor_system).
  struct forget_on_return {
    ~forget_on_return() { forget_actor_system(); }
  } forget;
  // The calls' states are shared with the world and never changed once
  // shared: each actor copies its own once, when spawned.
  std::vector<std::shared_ptr<const call_state>> calls;
  std::vector<agent_state> agents;
  calls.reserve(w.calls().size());
  for (auto& [sid, c] : w.calls())
    calls.push_back(c);
  for (auto& [id, a] : w.agents())
    agents.push_back(a);
  rep.calls = calls.size();
  rep.agents = agents.size();
  // The rebuilt states know their streams' versions: the log need not
  // look them up on each entity's first append.
  std::vector<std::pair<std::string, uint64_t>> versions;
  versions.reserve(calls.size() + agents.size());
  for (auto& c : calls)
    versions.emplace_back(events::call_stream(c->sid), c->version);
  for (auto& a : agents)
    versions.emplace_back(events::agent_stream(a.id), a.version);
  log_->learn_versions(versions);

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
  impl_ = std::make_unique<impl>(opts);
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
  env->dispatch = dispatch_stats_;
  env->passivate_after_ms = opts.passivate_after_ms;
  {
    // A passivated call is woken with the env it was made with (weak: the
    // registry lives in the env).
    std::weak_ptr<entity_env> weak = env;
    env->reg->set_waker([&sys, weak](const call_sid& sid, shared_call_state state, int64_t due) {
      auto e = weak.lock();
      return e ? wake_call(sys, e, sid, std::move(state), due) : caf::actor{};
    });
  }
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
    // A REST job that finally failed, or a callback's call Twilio placed,
    // goes to the call it was for.
    std::string id;
    if (auto* r = std::get_if<cmd::redirect_failed>(&c))
      id = r->offer_id;
    else if (auto* f = std::get_if<cmd::callback_call_failed>(&c))
      id = f->callback_id;
    else if (auto* p = std::get_if<cmd::callback_call_placed>(&c))
      id = p->callback_id;
    caf::actor call = reg->call(reg->call_of_offer(id));
    if (!call)
      return;
    std::visit(
        [&](auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, cmd::redirect_failed> ||
                        std::is_same_v<T, cmd::callback_call_failed> ||
                        std::is_same_v<T, cmd::callback_call_placed>)
            caf::anon_send(call, command_atom::value, call_request{x, {}});
        },
        c);
  });
  env->dispatcher = spawn_dispatcher(sys, env, std::move(ds));
  timer_options to;
  to.beat_ms = opts.virtual_clock || opts.clock || opts.deterministic ? 0 : opts.tick_ms;
  to.cleanup_every_ms = opts.cleanup_every_ms;
  to.journal_figures = journal_stats_;
  to.digest_every_events = opts.digest_every_events;
  to.digest_detached = !opts.deterministic;
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
  std::map<std::string, queue_config> configs;  // read once per queue, not per call
  // Only the calls a restart left with something open are asked to
  // recover; every other call's due work is its deadline's, scheduled
  // below (a past one fires at once).
  std::vector<caf::actor> open_calls;
  int64_t started_ms = env->clock->now_ms();
  for (auto& shared : calls) {
    const call_state& c = *shared;
    auto config = configs.find(c.queue);
    if (config == configs.end())
      config = configs.emplace(c.queue, reads_->read([&](const world& w) { return w.config_of(c.queue); }))
                   .first;
    int64_t due = next_deadline(c, env->rules, config->second, env->clock->now_ms());
    auto own = [&] {
      call_state s = c;
      apply_restart(s, started_ms);
      return s;
    };
    bool open = open_at_restart(c);
    if (!open && env->passivate_after_ms > 0 && waits_long(c.phase)) {
      // A call that only waits starts passivated: no actor until something
      // comes for it (the start spawns none of the waiting calls).
      reg->add_passive(c.sid, std::make_shared<call_state>(own()), due);
    } else {
      auto h = reg->call_or_spawn(
          c.sid, [&](const call_sid& sid) { return spawn_call(sys, env, sid, own()); }, &spawned);
      if (open)
        open_calls.push_back(h);
    }
    for (auto& id : {c.routing().offer_id, c.routing().callback_id})
      if (!id.empty())
        reg->add_offer(id, c.sid);
    call_sid sid = reg->sid_of(c.sid);  // the registry's copy, shared
    caf::anon_send(env->dispatcher, view_atom::value, view_of(c, env->rules, sid));
    if (due != 0)
      caf::anon_send(env->timers, schedule_atom::value, std::move(sid), due);
  }
  reply r;
  std::string why;
  if (!request(impl_->askers, pump, env->timers, &r, &why, recover_atom::value, opts.version,
               std::move(open_calls)))
    return status::io_error("recovery failed: " + why);
  // Every entity resolved what was open: matching may begin.
  caf::anon_send(env->dispatcher, recovered_atom::value);
  if (pump)
    pump();
  // Decoding a snapshot and replaying left freed memory in malloc's arenas
  // (the actors above reused some of it): give the rest back rather than
  // start with it.
  malloc_trim(0);
  rep.spawn_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (report != nullptr)
    *report = std::move(rep);
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


}  // namespace callq
