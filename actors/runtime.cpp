#include "actors/runtime.hpp"

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/registry.hpp"

#include "actors/runtime_internal.hpp"

namespace callq {

using namespace runtime_detail;

status runtime::start(const runtime_options& opts, std::unique_ptr<runtime>* out,
                      startup_report* report) {
  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<runtime> rt(new runtime);
  rt->opts_ = opts;
  storage::log_options lo;
  lo.idempotency_ttl_ms = opts.idempotency_ttl_ms;
  lo.keep_snapshots = opts.keep_snapshots;
  lo.rocksdb_env = opts.storage_env;
  lo.defer_background_work = true;  // until the actors run (below)
  std::unique_ptr<storage::event_log> log;
  if (auto st = storage::event_log::open_store(opts.store, opts.data_dir, lo, &log); !st)
    return st;
  rt->log_ = std::move(log);
  double open_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
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
  rt->snapshots_ = std::make_shared<snapshot_writer>(rt->log_, rt->snapshot_stats_);
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
  rt->log_->start_background_work();
  if (report != nullptr)
    report->open_seconds = open_seconds;
  rt->measure_disk();
  if (opts.disk_check_ms > 0)
    rt->watcher_ = std::thread([r = rt.get()] { r->watch_disk(); });
  *out = std::move(rt);
  return status::ok();
}


actor_counts runtime::actors() const {
  std::shared_lock life(life_mu_);
  if (!impl_)
    return {};
  return {impl_->env->reg->live_calls(), impl_->env->reg->live_agents(),
          impl_->env->reg->finished_calls(), impl_->env->reg->passive_calls()};
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
    if (request(impl_->askers, impl_->pump, a, &text, &why, digest_atom::value))
      out[text.substr(0, text.find('|'))] = text;
  }
  for (auto& state : env.reg->passive_states()) {  // a passivated call is its state
    std::string text = digest_text(*state);
    out[text.substr(0, text.find('|'))] = text;
  }
  return out;
}

int64_t runtime::pending_timers() {
  std::shared_lock life(life_mu_);
  int64_t n = -1;
  std::string why;
  if (!impl_ || !request(impl_->askers, impl_->pump, impl_->env->timers, &n, &why, pending_atom::value))
    return -1;
  return n;
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
    std::shared_ptr<const world> state = reads_->version();
    events::envelope last;
    int64_t at = log_->get(state->last_seq(), &last) ? last.ev.ts_ms : 0;
    if (state->last_seq() > 0)
      snapshots_->write_now(*state, at);
  }
  snapshots_.reset();
  log_.reset();
}

runtime::~runtime() { stop(); }


}  // namespace callq
