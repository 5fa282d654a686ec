#include "actors/runtime.hpp"

#include <chrono>

#include <caf/all.hpp>

#include "actors/dispatcher_actor.hpp"
#include "actors/messages.hpp"
#include "replay/rebuild.hpp"

namespace callq {

struct runtime::impl {
  explicit impl(int threads) : cfg(make_config(threads)), system(cfg) {}
  static caf::actor_system_config make_config(int threads) {
    caf::actor_system_config c;
    c.set("scheduler.max-threads", threads);
    c.set("scheduler.policy", caf::atom("sharing"));
    return c;
  }
  caf::actor_system_config cfg;
  caf::actor_system system;
  caf::actor journal;
  caf::actor dispatcher;
};


status runtime::start(const runtime_options& opts, std::unique_ptr<runtime>* out,
                      startup_report* report) {
  std::unique_ptr<runtime> rt(new runtime);
  storage::log_options lo;
  std::unique_ptr<storage::event_log> log;
  if (auto st = storage::event_log::open_data_dir(opts.data_dir, lo, &log); !st)
    return st;
  rt->log_ = std::move(log);

  auto t0 = std::chrono::steady_clock::now();
  auto logic = std::make_unique<center>(opts.rules);
  replay::rebuild_report rr;
  if (auto st = replay::rebuild(*rt->log_, *logic, {}, &rr); !st)
    return status::corruption("cannot rebuild state from " + opts.data_dir + ": " + st.message());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (report != nullptr)
    *report = startup_report{rr.events, secs};

  std::shared_ptr<clock_source> clk;
  if (opts.virtual_clock) {
    rt->manual_clock_ = std::make_shared<manual_clock_source>(system_clock_source().now_ms());
    clk = rt->manual_clock_;
  } else {
    clk = std::make_shared<system_clock_source>();
  }
  rt->journal_stats_ = std::make_shared<journal_stats>();
  rt->gateway_stats_ = std::make_shared<gateway_stats>();
  rt->impl_ = std::make_unique<impl>(opts.scheduler_threads);
  auto& sys = rt->impl_->system;
  rt->impl_->journal = spawn_journal(sys, rt->log_, rt->journal_stats_);
  dispatcher_options d;
  d.journal = rt->impl_->journal;
  d.clock = clk;
  d.gateway = opts.gateway;
  d.gateway_figures = rt->gateway_stats_;
  d.tick_ms = opts.tick_ms;
  rt->impl_->dispatcher = spawn_dispatcher(sys, std::move(logic), d);
  auto r = rt->ask(cmd::recover{opts.version});
  if (r.status >= 400)
    return status::io_error("recovery failed: " + r.error);
  *out = std::move(rt);
  return status::ok();
}

reply runtime::ask(cmd::command c, const std::string& idempotency_key) {
  if (stopped_)
    return reply::fail(503, "server is shutting down");
  // A retry of a request whose events are durable: its stored answer, read
  // here on the caller's thread rather than on the dispatcher's.
  std::string stored;
  if (!idempotency_key.empty() && log_->get_idempotency(idempotency_key, &stored))
    return reply::twiml(voice_reply::from_json(nlohmann::json::parse(stored)));
  caf::scoped_actor self{impl_->system};
  reply answer = reply::fail(503, "no answer from the dispatcher");
  self->request(impl_->dispatcher, std::chrono::seconds(10), command_atom::value,
                command_request{std::move(c), idempotency_key})
      .receive([&](reply& r) { answer = std::move(r); },
               [&](caf::error& err) {
                 answer = reply::fail(503, "dispatcher unavailable: " + impl_->system.render(err));
               });
  return answer;
}

status runtime::advance_clock(int64_t ms) {
  if (!manual_clock_)
    return status::not_supported("the clock is not virtual");
  manual_clock_->advance(ms);
  ask(cmd::tick{});
  ask(cmd::sweep{});
  return status::ok();
}

void runtime::stop() {
  if (stopped_ || !impl_)
    return;
  ask(cmd::record_digest{});
  stopped_ = true;
  caf::anon_send_exit(impl_->dispatcher, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(impl_->journal, caf::exit_reason::user_shutdown);
  impl_.reset();  // waits for the actors
  log_.reset();
}

runtime::~runtime() { stop(); }

}  // namespace callq
