#include "actors/call/call_logic.hpp"

#include <algorithm>
#include <optional>

#include "actors/dispatcher/opening_hours.hpp"
#include "actors/call/wait_prediction.hpp"
#include "actors/feature_flags.hpp"
#include "actors/phone_number.hpp"

namespace callq {

using namespace events;

namespace {

bool caller_gone(const std::string& call_status) {
  return call_status == "completed" || call_status == "canceled" || call_status == "failed" ||
         call_status == "busy" || call_status == "no-answer";
}

std::string failure_reason(const std::string& dial_status) {
  if (dial_status == "busy" || dial_status == "no-answer" || dial_status == "failed" ||
      dial_status == "canceled")
    return dial_status;
  return "failed";
}

/// Failed offers that count against the agent.
bool counts_as_missed(const std::string& reason) {
  return reason == "no-answer" || reason == "busy" || reason == "failed" || reason == "timeout";
}

/// How long a refused caller has to press 1 for a callback before the
/// call counts as turned away (the <Gather> waits 8 s after its prompt).
constexpr int64_t callback_choice_ms = 60'000;

int64_t seconds_between(int64_t from_ms, int64_t to_ms) {
  return from_ms > 0 && to_ms > from_ms ? (to_ms - from_ms) / 1000 : 0;
}

/// When the caller on hold in `c` overflows under its queue's `q` (README,
/// "Queues and routing"), or 0: never (not on hold, or no overflow).
int64_t overflow_due_ms(const call_state& c, const queue_config& q) {
  if (c.phase != call_phase::queued || q.overflow_after_seconds <= 0 || q.overflow_queue.empty() ||
      q.overflow_queue == c.queue)
    return 0;
  return c.queue_entered_ms() + q.overflow_after_seconds * 1000;
}

/// One decision in progress.
class decider {
 public:
  decider(call_state& c, const call_context& ctx)
      : c_(c), ctx_(ctx), own_(with_call_flags(*ctx.rules, c.flags.bits)), p_(own_) {}

  call_decision run(const call_command& cmd) {
    bool is_new = c_.version == 0;
    if (!is_new && !std::holds_alternative<cmd::recover>(cmd))
      timers();
    out_.answer = std::visit([this](const auto& x) { return on(x); }, cmd);
    if (c_.version > 0)
      rules();
    // Every answer to the caller says whose queue and language it is in.
    if (auto* v = std::get_if<voice_reply>(&out_.answer.body)) {
      if (v->queue.empty())
        v->queue = c_.queue;
      v->language = c_.language;
      v->music = p_.feature_queue_hold_music;
    }
    return std::move(out_);
  }

 private:
  void emit(payload p) {
    event e{ctx_.now_ms, std::move(p)};
    apply(c_, e);
    out_.events.push_back(std::move(e));
  }
  void notify(offer_notice::kind k, std::string offer_id, std::string reason = {},
              bool missed = false) {
    notify_agent(c_.routing().agent_id, k, std::move(offer_id), std::move(reason), missed);
  }
  void notify_agent(const std::string& agent, offer_notice::kind k, std::string offer_id,
                    std::string reason = {}, bool missed = false) {
    if (agent.empty())
      return;
    out_.notices.push_back({k, agent, std::move(offer_id), c_.sid, std::move(reason), missed});
  }
  /// `agent`'s leg answered the current offer: the call is theirs; a
  /// ring-all's other agents stop ringing at once (not a miss for them).
  void connect(const std::string& agent, int64_t hold_seconds, int64_t ring_ms) {
    std::vector<std::string> rung = c_.ringing_agents();
    emit(call_connected{c_.sid, agent, c_.routing().offer_id, hold_seconds, ring_ms});
    notify(offer_notice::kind::answered, c_.routing().offer_id);
    for (auto& other : rung)
      if (other != agent)
        notify_agent(other, offer_notice::kind::ended, c_.routing().offer_id, "answered-elsewhere");
  }
  int64_t position() const {
    return c_.in_line() && ctx_.position_of ? ctx_.position_of(c_.queue, c_.key()) : 0;
  }
  voice_reply enqueue_reply(bool greet) const {
    voice_reply v;
    v.what = voice_reply::kind::enqueue;
    v.queue = c_.queue;
    v.greet = greet;
    v.greeting_name = c_.caller_name;
    return v;
  }
  reply unknown_call() const { return reply::fail(outcome::invalid, "unknown call " + c_.sid); }

  // ------------------------------------------------- shared decisions --

  /// The current offer failed; each agent it rang is told (a miss for
  /// each, when the reason counts), except `told`: every agent when the
  /// agent sides already know (a restart resolves both sides), or the one
  /// that rescinded.
  enum class told { none, all, one };
  void fail_offer(const std::string& reason, told known = told::none,
                  const std::string& rescinder = {}) {
    std::string offer = c_.routing().offer_id;
    std::vector<std::string> rung = c_.ringing_agents();
    call_offer_failed e;
    e.call_sid = c_.sid;
    e.agent_id = c_.routing().agent_id;
    e.offer_id = offer;
    e.reason = reason;
    e.ring_ms = std::max<int64_t>(0, ctx_.now_ms - c_.routing().offered_ms);
    e.agents = c_.routing().ring_all;
    emit(std::move(e));
    if (known == told::all)
      return;
    for (auto& agent : rung)
      if (known == told::none || agent != rescinder)
        notify_agent(agent, offer_notice::kind::ended, offer, reason, counts_as_missed(reason));
  }
  void fail_callback(const std::string& reason, bool missed, bool notify_agent = true) {
    std::string id = c_.routing().callback_id;
    emit(callback_failed{c_.sid, id, c_.routing().agent_id, reason, c_.routing().callback_attempts,
                         c_.routing().callback_attempts >= p_.callback_max_attempts});
    if (notify_agent)
      notify(offer_notice::kind::ended, id, reason, missed);
  }
  void abandon(const std::string& reason) {
    if (c_.phase == call_phase::offered)
      fail_offer("caller-hangup");
    call_abandoned e;
    e.call_sid = c_.sid;
    e.queue = c_.queue;
    e.reason = reason;
    e.position = position();
    e.orig_position = c_.orig_position;
    e.wait_seconds = seconds_between(c_.enqueued_ms, ctx_.now_ms);
    emit(std::move(e));
  }
  void complete(const std::string& ended_by, int64_t talk_seconds) {
    call_completed e;
    e.call_sid = c_.sid;
    e.agent_id = c_.routing().agent_id;
    e.ended_by = ended_by;
    e.hold_seconds = seconds_between(c_.enqueued_ms, c_.routing().connected_ms);
    e.talk_seconds = talk_seconds > 0 ? talk_seconds : seconds_between(c_.routing().connected_ms, ctx_.now_ms);
    e.orig_position = c_.orig_position;
    emit(std::move(e));
    notify(offer_notice::kind::finished, c_.routing().offer_id);
  }

  // ------------------------------------------------ timers and rules --

  void timers() {
    int64_t now = ctx_.now_ms;
    if (c_.phase == call_phase::offered && now - c_.routing().offered_ms >= p_.offer_timeout_ms + p_.offer_grace_ms)
      fail_offer("timeout");
    if (c_.phase == call_phase::callback_dialing && !c_.callback_agent_answered &&
        now - c_.routing().offered_ms >= p_.callback_ring_ms)
      fail_callback("agent-no-answer", true);
    if (c_.phase == call_phase::deciding_callback && now - c_.arrived_ms >= callback_choice_ms)
      emit(call_turned_away{c_.sid, "timeout"});
    if (c_.phase == call_phase::callback_scheduled && now >= c_.routing().callback_due_ms) {
      callback_due e{c_.sid, c_.routing().callback_id, c_.queue};
      if (c_.booked) {  // joins with the directory's priority of the moment
        e.priority = ctx_.caller.priority;
        e.has_priority = true;
      }
      emit(std::move(e));
    }
  }

  /// A callback request for this call's number and queue, with a new id.
  callback_requested callback_request(const std::string& key) const {
    callback_requested e;
    e.call_sid = c_.sid;
    e.callback_id = ctx_.next_callback_id ? ctx_.next_callback_id() : "CB-" + c_.sid;
    e.number = c_.from;
    e.key = key;
    e.queue = c_.queue;
    return e;
  }

  // ------------------------------------------------ the queue's door --

  /// The queue's rules for a caller arriving now: nothing when it takes
  /// the caller (after any overflow hops, which move the call), else the
  /// refusal's answer.
  std::optional<voice_reply> admission() {
    if (!ctx_.queue_facts_of)
      return std::nullopt;
    for (int hop = 0; hop < 32; ++hop) {  // overflow chains are loop-free (validated)
      queue_facts f = ctx_.queue_facts_of(c_.queue);
      const queue_config& q = f.config;
      bool closed = q.hours && !is_open(*q.hours, ctx_.now_ms);
      const char* reason = closed ? "closed"
                           : q.max_waiting > 0 && f.waiting >= q.max_waiting ? "full"
                           : !q.join_when_no_agents && f.staffed == 0        ? "no-agents"
                                                                             : nullptr;
      if (!reason)
        return std::nullopt;
      call_refused r;
      r.call_sid = c_.sid;
      r.queue = c_.queue;
      r.reason = reason;
      r.position = f.waiting + 1;
      bool callbacks = can_call_back(c_, p_);
      voice_reply v;
      v.what = voice_reply::kind::refused;
      v.closed = closed;
      if (closed) {
        v.message = q.hours->closed_message;
        v.offer_callback = callbacks && q.hours->action == closed_action::callback &&
                           next_opening(*q.hours, ctx_.now_ms) > 0;
        r.action = v.offer_callback ? "callback" : "message";
      } else if (q.when_full == full_action::overflow && !q.overflow_queue.empty()) {
        r.action = "overflow";
        r.overflow_queue = q.overflow_queue;
        emit(std::move(r));
        continue;
      } else {
        v.offer_callback = callbacks && q.when_full == full_action::callback;
        r.action = v.offer_callback ? "callback" : "hangup";
      }
      emit(std::move(r));
      return v;
    }
    return std::nullopt;
  }

  /// A refused caller pressed a key: 1 books a callback (now, or at the
  /// next opening when the queue was closed), anything else says goodbye.
  reply decide_at_door(const cmd::callback_response& x) {
    if (x.digits != "1") {
      emit(call_turned_away{c_.sid, "declined"});
      return reply::twiml({voice_reply::kind::goodbye});
    }
    int64_t due = 0;
    if (c_.refused_closed && ctx_.queue_facts_of) {
      queue_facts f = ctx_.queue_facts_of(c_.queue);
      if (f.config.hours)
        due = next_opening(*f.config.hours, ctx_.now_ms);
    }
    callback_requested e = callback_request(x.digits);
    if (due <= ctx_.now_ms) {
      due = 0;
      line_key k{false, c_.priority, ctx_.now_ms, c_.order};
      e.position = e.orig_position = ctx_.position_of ? ctx_.position_of(c_.queue, k) : 1;
    }
    e.due_ms = due;
    emit(std::move(e));
    voice_reply v{voice_reply::kind::callback_booked};
    v.closed = c_.refused_closed;
    return reply::twiml(v);
  }

  /// The configuration of the call's queue now (defaults when unknown).
  queue_config config() const {
    return ctx_.config_of ? ctx_.config_of(c_.queue) : queue_config{};
  }

  /// A waiting caller who has waited the queue's overflowAfterSeconds in
  /// it moves to its overflowQueue, keeping the enqueue time and priority
  /// (README, "Queues and routing"). Only a caller on hold moves: one
  /// being rung waits for the outcome, a callback keeps its place.
  /// True when it moved the call.
  bool follow_overflow(const queue_config& q) {
    int64_t due = overflow_due_ms(c_, q);
    if (due == 0 || ctx_.now_ms < due)
      return false;
    call_overflowed e;
    e.call_sid = c_.sid;
    e.queue = c_.queue;
    e.to_queue = q.overflow_queue;
    e.position = position();
    e.orig_position = c_.orig_position;
    e.wait_seconds = seconds_between(c_.queue_entered_ms(), ctx_.now_ms);
    e.new_position = ctx_.position_of ? ctx_.position_of(q.overflow_queue, c_.key()) : 1;
    emit(std::move(e));
    return true;
  }

  /// A call in a line needs the skills of the step its wait has reached
  /// (README, "Queues and routing"); a change is recorded when the call
  /// joins the line and at each step, so replay shows when it relaxed.
  void follow_skill_steps(const queue_config& q) {
    if (!c_.in_line() || c_.enqueued_ms <= 0)
      return;
    requirement now = requirement_at(q.skill_steps, (ctx_.now_ms - c_.enqueued_ms) / 1000, &c_.routing().skills);
    int64_t next_ms = now.next_after_seconds >= 0 ? c_.enqueued_ms + now.next_after_seconds * 1000 : 0;
    if (now.step == c_.require_step && now.require == c_.require && next_ms == c_.require_next_ms)
      return;
    emit(call_requirements_set{c_.sid, c_.queue, now.step, std::move(now.require), next_ms});
  }

  /// preferLastAgentSeconds: a caller who joins the line and talked to an
  /// agent before waits that long for that agent, when the agent is a
  /// staffed member who meets the call's requirement; the wait ends at
  /// its time, or earlier when the agent stops being so (seen at the
  /// call's next event).
  void follow_preference(const queue_config& q) {
    if (!c_.in_line())
      return;
    auto can_take = [&](const std::string& agent) {
      return ctx_.agent_can_take && ctx_.agent_can_take(c_.queue, agent, c_.require);
    };
    if (c_.routing().preferred_agent.empty()) {
      if (!joined_ || q.prefer_last_agent_seconds <= 0 || !ctx_.last_agent_of ||
          !is_dialable_number(c_.from))
        return;
      std::string agent = ctx_.last_agent_of(c_.from);
      if (!agent.empty() && can_take(agent))
        emit(call_agent_preferred{c_.sid, c_.queue, agent, "last-agent",
                                  ctx_.now_ms + q.prefer_last_agent_seconds * 1000});
      return;
    }
    if (ctx_.now_ms >= c_.routing().prefer_until_ms)
      emit(call_agent_preferred{c_.sid, c_.queue, "", "timeout", 0});
    else if (!can_take(c_.routing().preferred_agent))
      emit(call_agent_preferred{c_.sid, c_.queue, "", "unavailable", 0});
  }

  void rules() {
    queue_config q = config();
    if (follow_overflow(q))
      q = config();  // it moved: the new queue's rules from here on
    follow_skill_steps(q);
    follow_preference(q);
    int64_t now = ctx_.now_ms;
    int64_t waited = c_.enqueued_ms > 0 ? (now - c_.enqueued_ms) / 1000 : 0;
    if (c_.phase == call_phase::queued) {
      if (p_.escalate_after_failed_offers > 0 && !c_.escalated &&
          c_.failed_in_row >= p_.escalate_after_failed_offers)
        emit(call_escalated{c_.sid, "failed-offers", c_.failed_in_row});
      if (can_call_back(c_, p_) && !c_.callback_offered) {
        if (p_.max_offer_attempts > 0 && c_.failed_in_row >= p_.max_offer_attempts)
          emit(callback_offered{c_.sid, "max-attempts", waited});
        else if (c_.enqueued_ms > 0 && now - c_.enqueued_ms >= p_.max_queue_wait_ms)
          emit(callback_offered{c_.sid, "max-wait", waited});
      }
    }
    if (c_.phase == call_phase::callback_waiting && !c_.callback_escalated &&
        now - c_.routing().callback_requested_ms >= p_.callback_sla_ms)
      emit(callback_escalated{c_.sid, c_.routing().callback_id, (now - c_.routing().callback_requested_ms) / 1000});
  }

  // ------------------------------------------------- Twilio: caller --

  reply on(const cmd::incoming_call& x) {
    if (c_.version > 0) {  // a retry: answer what the first request got
      c_.last_contact_ms = ctx_.now_ms;
      if (c_.phase == call_phase::offered && c_.attempts == 1 && !p_.feature_enhanced_queue &&
          !c_.routing().agent_identity.empty()) {
        voice_reply v;
        v.what = voice_reply::kind::dial_agent;
        v.offer_id = c_.routing().offer_id;
        v.identity = c_.routing().agent_identity;
        return reply::twiml(v);
      }
      if (c_.phase == call_phase::deciding_callback) {
        voice_reply v{voice_reply::kind::refused};
        v.closed = c_.refused_closed;
        v.offer_callback = true;
        return reply::twiml(v);
      }
      if (is_finished(c_.phase) || c_.refused)
        return reply::twiml({voice_reply::kind::hangup});
      return reply::twiml(enqueue_reply(true));
    }
    call_arrived arrived;
    arrived.call_sid = x.call_sid;
    arrived.from = x.from;
    arrived.to = x.to;
    arrived.queue = x.queue;
    arrived.caller_name = ctx_.caller.display_name;
    arrived.priority = x.priority ? *x.priority : ctx_.caller.priority;
    arrived.order = static_cast<int64_t>(ctx_.order);
    arrived.skills = x.skills;
    arrived.language = !ctx_.caller.language.empty() ? ctx_.caller.language : x.language;
    arrived.flags = flags_for_call(*ctx_.rules, !x.from.empty() ? x.from : x.call_sid);
    emit(std::move(arrived));
    own_ = with_call_flags(*ctx_.rules, c_.flags.bits);  // this call's path from here on
    if (auto refusal = admission())
      return reply::twiml(*refusal);
    line_key k{false, c_.priority, ctx_.now_ms, c_.order};
    int64_t pos = ctx_.position_of ? ctx_.position_of(c_.queue, k) : 1;
    emit(call_enqueued{c_.sid, c_.queue, c_.priority, pos});
    joined_ = true;
    out_.wants_direct_agent = !p_.feature_enhanced_queue;
    return reply::twiml(enqueue_reply(true));
  }

  reply on(const cmd::hold_poll&) {
    if (c_.version == 0)
      return unknown_call();
    c_.last_contact_ms = ctx_.now_ms;
    rules();  // a wait limit reached now shows in this very answer
    voice_reply v;
    v.what = voice_reply::kind::hold;
    v.position = position();
    if (c_.phase != call_phase::queued && c_.phase != call_phase::offered)
      return reply::twiml(v);
    int64_t handle_ms = ctx_.avg_handle_ms > 0 ? ctx_.avg_handle_ms : p_.default_handle_ms;
    wait_prediction w = predict_wait(v.position, ctx_.staffed_agents, handle_ms, ctx_.abandon_per_ms);
    v.wait_estimate_seconds = w.estimate_seconds;
    v.wait_low_seconds = w.low_seconds;
    v.wait_high_seconds = w.high_seconds;
    v.announce = p_.feature_queue_position_updates && c_.phase == call_phase::queued &&
                 (c_.last_announce_ms == 0 || ctx_.now_ms - c_.last_announce_ms >= p_.announce_interval_ms);
    if (v.announce)
      emit(call_announced{c_.sid, v.position, w.estimate_seconds, w.low_seconds, w.high_seconds,
                          announce_wait_name(config().speech.announce)});
    v.offer_callback = can_call_back(c_, p_) && c_.callback_offered;
    return reply::twiml(v);
  }

  reply on(const cmd::callback_response& x) {
    if (c_.version == 0)
      return unknown_call();
    c_.last_contact_ms = ctx_.now_ms;
    if (c_.phase == call_phase::deciding_callback)
      return decide_at_door(x);
    bool requested_already = c_.phase == call_phase::callback_waiting ||
                             c_.phase == call_phase::callback_dialing ||
                             c_.phase == call_phase::callback_completed ||
                             c_.phase == call_phase::callback_scheduled;
    if (x.digits == "1" && requested_already && c_.refused) {
      voice_reply v{voice_reply::kind::callback_booked};
      v.closed = c_.refused_closed;
      return reply::twiml(v);
    }
    if (x.digits == "1" && requested_already)
      return reply::twiml({voice_reply::kind::callback_confirmed});
    if (x.digits != "1" || !p_.feature_callback_request_system || c_.phase != call_phase::queued)
      return reply::twiml({voice_reply::kind::callback_declined});
    if (!can_call_back(c_, p_))  // a key pressed anyway by a caller we cannot call
      return reply::twiml({voice_reply::kind::callback_impossible});
    callback_requested e = callback_request(x.digits);
    e.position = position();
    e.orig_position = c_.orig_position;
    e.wait_seconds = seconds_between(c_.enqueued_ms, ctx_.now_ms);
    emit(std::move(e));
    return reply::twiml({voice_reply::kind::callback_confirmed});
  }

  reply on(const cmd::queue_left& x) {
    if (c_.version == 0)
      return unknown_call();
    c_.last_contact_ms = ctx_.now_ms;
    bool waiting = c_.phase == call_phase::queued || c_.phase == call_phase::offered;
    const std::string& r = x.result;
    if (r == "hangup") {
      if (waiting)
        abandon("hangup");
      return reply::twiml({voice_reply::kind::empty});
    }
    if (r == "leave")
      return reply::twiml({voice_reply::kind::goodbye});
    if (r == "queue-full" || r == "error" || r == "system-error") {
      if (waiting)
        abandon(r);
      return reply::twiml({voice_reply::kind::unavailable});
    }
    return reply::twiml({voice_reply::kind::empty});  // redirected, bridged, ...
  }

  reply on(const cmd::call_status& x) {
    if (c_.version == 0 || !caller_gone(x.status))
      return reply::twiml({voice_reply::kind::empty});
    if (c_.phase == call_phase::deciding_callback)
      emit(call_turned_away{c_.sid, "hangup"});
    else if (c_.phase == call_phase::queued || c_.phase == call_phase::offered)
      abandon("hangup");
    else if (c_.phase == call_phase::connected)
      complete("caller", 0);
    return reply::twiml({voice_reply::kind::empty});
  }

  // ------------------------------------------------- Twilio: offers --

  reply on(const cmd::connect_agent& x) {
    c_.last_contact_ms = ctx_.now_ms;
    if (c_.phase == call_phase::offered && c_.routing().offer_id == x.offer_id) {
      voice_reply v;
      v.what = voice_reply::kind::dial_agent;
      v.offer_id = x.offer_id;
      v.identity = c_.routing().agent_identity;
      for (size_t i = 0; i < c_.routing().ring_all.size() && i < c_.routing().ring_identities.size(); ++i)
        v.ring_all.emplace_back(c_.routing().ring_all[i], c_.routing().ring_identities[i]);
      return reply::twiml(v);
    }
    if (c_.phase == call_phase::queued || c_.phase == call_phase::offered)
      return reply::twiml(enqueue_reply(false));
    if (is_finished(c_.phase))
      return reply::twiml({voice_reply::kind::hangup});
    return reply::twiml({voice_reply::kind::empty});
  }

  reply on(const cmd::agent_leg_status& x) {
    if ((x.call_status == "in-progress" || x.call_status == "answered") &&
        c_.phase == call_phase::offered && c_.routing().offer_id == x.offer_id) {
      std::vector<std::string> rung = c_.ringing_agents();
      // A ring-all's leg names its agent; a leg of no agent rung is not ours.
      const std::string& agent = x.agent_id.empty() ? c_.routing().agent_id : x.agent_id;
      if (std::find(rung.begin(), rung.end(), agent) != rung.end())
        connect(agent, seconds_between(c_.enqueued_ms, ctx_.now_ms),
                std::max<int64_t>(0, ctx_.now_ms - c_.routing().offered_ms));
    }
    return reply::twiml({voice_reply::kind::empty});
  }

  reply on(const cmd::dial_result& x) {
    c_.last_contact_ms = ctx_.now_ms;
    bool current = c_.routing().offer_id == x.offer_id;
    bool gone = caller_gone(x.call_status);
    if (x.dial_status == "completed" || x.dial_status == "answered") {
      if (current && c_.phase == call_phase::offered) {
        int64_t ring = std::max<int64_t>(0, ctx_.now_ms - c_.routing().offered_ms - x.duration_seconds * 1000);
        // No leg reported first: the offer's (first) agent took it.
        connect(c_.routing().agent_id, seconds_between(c_.enqueued_ms, c_.routing().offered_ms + ring), ring);
      }
      if (current && c_.phase == call_phase::connected)
        complete(gone ? "caller" : "agent", x.duration_seconds);
      return reply::twiml({voice_reply::kind::hangup});
    }
    if (current && c_.phase == call_phase::offered)
      fail_offer(gone ? "caller-hangup" : failure_reason(x.dial_status));
    if (gone && c_.phase == call_phase::queued)
      abandon("hangup");
    if (c_.phase == call_phase::queued || c_.phase == call_phase::offered)
      return reply::twiml(enqueue_reply(false));
    return reply::twiml({voice_reply::kind::hangup});
  }

  reply on(const cmd::redirect_failed& x) {
    if (c_.phase == call_phase::offered && c_.routing().offer_id == x.offer_id)
      fail_offer("redirect-failed");
    return reply{};
  }

  // ---------------------------------------------- Twilio: callbacks --

  reply on(const cmd::callback_connect& x) {
    if (c_.phase != call_phase::callback_dialing || c_.routing().callback_id != x.callback_id)
      return reply::twiml({voice_reply::kind::goodbye});
    // One leg dials the customer. Another leg -- of an earlier attempt,
    // placed although Twilio's answer was an error or never came, or just
    // before a restart, still ringing -- answered after it must not dial
    // the customer a second time. (Before any leg answered, the first to
    // answer is the attempt's: the CallSid in Twilio's answer, recorded
    // in callback.call_placed, is not required to match.)
    if (c_.callback_agent_answered && !c_.routing().callback_leg_sid.empty() && !x.leg_sid.empty() &&
        x.leg_sid != c_.routing().callback_leg_sid)
      return reply::twiml({voice_reply::kind::goodbye});
    if (!c_.callback_agent_answered) {
      emit(callback_agent_answered{c_.sid, c_.routing().callback_id, c_.routing().agent_id, x.leg_sid});
      notify(offer_notice::kind::answered, c_.routing().callback_id);
    }
    voice_reply v;
    v.what = voice_reply::kind::callback_dial;
    v.callback_id = c_.routing().callback_id;
    v.number = c_.routing().callback_number;
    return reply::twiml(v);
  }

  reply on(const cmd::callback_result& x) {
    if (c_.phase != call_phase::callback_dialing)
      return reply::twiml({voice_reply::kind::hangup});
    if (x.dial_status == "completed" || x.dial_status == "answered") {
      emit(callback_completed{c_.sid, c_.routing().callback_id, c_.routing().agent_id, x.duration_seconds});
      notify(offer_notice::kind::finished, c_.routing().callback_id);
    } else {
      fail_callback("customer-" + failure_reason(x.dial_status), false);
    }
    return reply::twiml({voice_reply::kind::hangup});
  }

  reply on(const cmd::callback_call_placed& x) {
    if (c_.phase == call_phase::callback_dialing && c_.routing().callback_id == x.callback_id &&
        c_.routing().callback_attempts == x.attempt && !c_.callback_agent_answered && !x.leg_sid.empty())
      emit(callback_call_placed{c_.sid, c_.routing().callback_id, x.leg_sid, x.attempt});
    return reply{};
  }

  reply on(const cmd::callback_call_failed&) {
    if (c_.phase == call_phase::callback_dialing && !c_.callback_agent_answered)
      fail_callback("call-failed", false);
    return reply{};
  }

  // ------------------------------------- the dispatcher and the agent --

  reply on(const cmd::take_offer& x) {
    if (!c_.dispatchable())
      return reply::of(offer_answer{false, {}}, outcome::conflict);
    if (x.take_by_ms != 0 && ctx_.now_ms > x.take_by_ms)  // the agents' time is running out
      return reply::of(offer_answer{false, {}}, outcome::conflict);
    // Matched in a queue it has left (an overflow), or under a requirement
    // it no longer has (a skill step): matched again from its new view.
    if (x.queue != c_.queue || x.require != c_.require)
      return reply::of(offer_answer{false, {}}, outcome::conflict);
    c_.edit_routing().agent_identity = x.identity;
    if (c_.phase == call_phase::callback_waiting) {
      emit(callback_started{c_.sid, c_.routing().callback_id, x.agent_id, c_.routing().callback_attempts + 1});
      rest_job j;
      j.what = rest_job::kind::create_call;
      j.call_sid = c_.sid;
      j.callback_id = c_.routing().callback_id;
      j.callback_attempt = c_.routing().callback_attempts;  // callback_started applied: this attempt
      j.identity = x.identity;
      out_.jobs.push_back(std::move(j));
      return reply::of(offer_answer{true, c_.routing().callback_id});
    }
    call_offered o{c_.sid, x.agent_id, x.offer_id, c_.queue, c_.attempts + 1, x.direct};
    if (!x.also.empty()) {  // ring-all: every agent reserved rings at once
      o.agents.push_back(x.agent_id);
      c_.edit_routing().ring_identities = {x.identity};
      for (auto& [agent, identity] : x.also) {
        o.agents.push_back(agent);
        c_.edit_routing().ring_identities.push_back(identity);
      }
    }
    emit(std::move(o));
    if (!x.direct) {
      rest_job j;
      j.what = rest_job::kind::redirect_call;
      j.call_sid = c_.sid;
      j.offer_id = x.offer_id;
      out_.jobs.push_back(std::move(j));
    }
    return reply::of(offer_answer{true, x.offer_id});
  }

  reply on(const cmd::rescind_offer& x) {
    if (c_.phase == call_phase::offered && c_.routing().offer_id == x.offer_id)
      fail_offer(x.reason, told::one, x.agent_id.empty() ? c_.routing().agent_id : x.agent_id);
    else if (c_.phase == call_phase::callback_dialing && c_.routing().callback_id == x.offer_id &&
             !c_.callback_agent_answered)
      fail_callback(x.reason, false, false);
    return reply{};
  }

  // ------------------------------------------- operators' callbacks --

  /// A callback booked through the API: the first event of its stream.
  reply on(const cmd::schedule_callback& x) {
    if (c_.version > 0)  // the id is new each time: never a retry
      return reply::fail(outcome::conflict, "callback " + x.callback_id + " exists");
    callback_scheduled e;
    e.call_sid = x.callback_id;
    e.callback_id = x.callback_id;
    e.number = x.number;
    e.queue = x.queue;
    e.caller_name = x.name.empty() ? ctx_.caller.display_name : x.name;
    e.priority = ctx_.caller.priority;
    e.order = static_cast<int64_t>(ctx_.order);
    e.due_ms = x.at_ms > ctx_.now_ms ? x.at_ms : 0;
    emit(std::move(e));
    return reply::of(callback_answer{c_.routing().callback_id, callback_state_name(c_.phase)},
                     outcome::created);
  }

  reply on(const cmd::cancel_callback& x) {
    if (c_.routing().callback_id != x.callback_id)
      return reply::fail(outcome::not_found, "unknown callback " + x.callback_id);
    bool not_started = c_.phase == call_phase::callback_scheduled ||
                       (c_.phase == call_phase::callback_waiting && c_.routing().callback_attempts == 0);
    if (!not_started)
      return reply::fail(outcome::conflict, cancel_refusal(x.callback_id, c_.phase));
    emit(callback_canceled{c_.sid, c_.routing().callback_id});
    return reply::of(callback_answer{c_.routing().callback_id, callback_state_name(c_.phase)});
  }

  // ------------------------------------------------------ operations --

  reply on(const cmd::tick&) { return reply{}; }  // timers() and rules() did it

  reply on(const cmd::queue_cleanup&) {
    cleanup_answer a;
    if (c_.phase == call_phase::queued && ctx_.now_ms - c_.last_contact_ms >= p_.orphan_after_ms) {
      abandon("orphaned");
      a.ids.push_back(c_.sid);
    }
    return reply::of(std::move(a));
  }

  reply on(const cmd::recover&) {
    apply_restart(c_, ctx_.now_ms);
    cleanup_answer a;
    if (c_.phase == call_phase::offered) {
      fail_offer("recovered", told::all);
      a.count = 1;
    } else if (c_.phase == call_phase::callback_dialing) {
      fail_callback("recovered", false, false);
      a.count = 1;
    }
    return reply::of(std::move(a));
  }

  call_state& c_;
  const call_context& ctx_;
  policy own_;        ///< the server's rules under this call's flags
  const policy& p_;   ///< own_
  call_decision out_;
  bool joined_ = false;  ///< this command put the caller in a line
};

}  // namespace

call_decision decide(call_state& state, const call_command& c, const call_context& ctx) {
  return decider(state, ctx).run(c);
}

std::string cancel_refusal(const std::string& id, call_phase phase) {
  const char* state = callback_state_name(phase);
  return "callback " + id + " is " + (state != nullptr ? state : phase_name(phase)) +
         (phase == call_phase::callback_waiting ? " after an attempt" : "") +
         ": only one that has not started can be canceled";
}

bool open_at_restart(const call_state& c) {
  return c.phase == call_phase::offered || c.phase == call_phase::callback_dialing;
}

bool can_call_back(const call_state& c, const policy& p) {
  return p.feature_callback_request_system && is_dialable_number(c.from);
}

namespace {

/// After MAX_OFFER_ATTEMPTS failures the caller first gets one announce
/// interval to hear the callback offer before agents who failed are tried
/// again; 0 when that does not apply.
int64_t rest_until(const call_state& c, const policy& p) {
  if (c.phase == call_phase::queued && p.max_offer_attempts > 0 && is_dialable_number(c.from) &&
      c.failed_in_row >= p.max_offer_attempts)
    return c.last_failed_ms + p.announce_interval_ms;
  return 0;
}

}  // namespace

int64_t next_deadline(const call_state& c, const policy& p, const queue_config& queue, int64_t now) {
  int64_t due = 0;
  auto at = [&](int64_t t) { due = due == 0 ? t : std::min(due, t); };
  if (c.in_line() && c.require_next_ms > 0)
    at(c.require_next_ms);
  if (c.in_line() && !c.routing().preferred_agent.empty())
    at(c.routing().prefer_until_ms);
  switch (c.phase) {
    case call_phase::queued:
      if (int64_t o = overflow_due_ms(c, queue))
        at(o);
      if (can_call_back(c, p) && !c.callback_offered)
        at(c.enqueued_ms + p.max_queue_wait_ms);
      if (int64_t r = rest_until(c, p); r > now)
        at(r);
      break;
    case call_phase::offered:
      at(c.routing().offered_ms + p.offer_timeout_ms + p.offer_grace_ms);
      break;
    case call_phase::callback_waiting:
      if (!c.callback_escalated)
        at(c.routing().callback_requested_ms + p.callback_sla_ms);
      break;
    case call_phase::callback_dialing:
      if (!c.callback_agent_answered)
        at(c.routing().offered_ms + p.callback_ring_ms);
      break;
    case call_phase::deciding_callback:
      at(c.arrived_ms + callback_choice_ms);
      break;
    case call_phase::callback_scheduled:
      at(c.routing().callback_due_ms);
      break;
    default:
      break;
  }
  return due;
}

call_view view_of(const call_state& c, const policy& p, call_sid sid) {
  call_view v;
  v.sid = sid.empty() ? call_sid(c.sid) : std::move(sid);
  v.queue = c.queue;
  v.key = c.key();
  v.dispatchable = c.dispatchable();
  v.callback = c.phase == call_phase::callback_waiting;
  call_view_routing r;
  if (v.callback)
    r.callback_id = c.routing().callback_id;
  r.tried = c.routing().tried;
  r.rest_until_ms = rest_until(c, p);
  r.failed_in_row = c.failed_in_row;
  r.require = c.require;
  r.preferred_agent = c.routing().preferred_agent;
  if (!r.empty())
    v.edit_routing() = std::move(r);
  v.fallback = flag_on(c.flags.bits, feature_index::multi_agent_fallback, p.feature_multi_agent_fallback);
  v.polled = flag_on(c.flags.bits, feature_index::agent_polling, p.feature_agent_polling);
  v.agent_checks =
      agent_checks(flag_on(c.flags.bits, feature_index::agent_heartbeat, p.feature_agent_heartbeat),
                   flag_on(c.flags.bits, feature_index::device_connectivity, p.feature_device_connectivity),
                   flag_on(c.flags.bits, feature_index::enhanced_discovery, p.feature_enhanced_discovery));
  v.version = c.version;
  return v;
}

}  // namespace callq
