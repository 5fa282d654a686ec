#include "actors/agent/agent_logic.hpp"

#include <algorithm>

#include "actors/dispatcher/queue_config.hpp"

namespace callq {

using namespace events;

namespace {

/// One decision in progress.
class decider {
 public:
  decider(agent_state& a, const policy& p, int64_t now, bool heartbeats_waiting)
      : a_(a), p_(p), now_(now), heartbeats_waiting_(heartbeats_waiting) {}

  agent_decision run(const agent_command& cmd) {
    if (a_.exists())
      timers(settles_reservation(cmd));
    out_.answer = std::visit([this](const auto& x) { return on(x); }, cmd);
    if (a_.exists())
      for (int round = 0; round < 4 && settle(); ++round) {
      }
    return std::move(out_);
  }

 private:
  void emit(payload p) {
    event e{now_, std::move(p)};
    apply(a_, e);
    out_.events.push_back(std::move(e));
  }
  void end_reservation() {
    a_.reservation = 0;
    a_.reserved_for.clear();
    a_.reserved_until_ms = 0;
  }
  agent_answer answer() const {
    return {a_.id, visible_state(a_, p_), a_.readiness, p_.heartbeat_interval_ms / 1000};
  }
  reply unknown() const { return reply::fail(outcome::not_found, "unknown agent " + a_.id); }

  /// Whether `cmd` is the call side's word (confirm or release) on the
  /// reservation held now. It is taken whatever the time: the call took
  /// (or gave up) the offer within its share of the reservation's time,
  /// so the reservation must not time out just before the word arrives
  /// (the call would ring an agent who counts itself free).
  bool settles_reservation(const agent_command& cmd) const {
    if (a_.reservation == 0)
      return false;
    if (auto* c = std::get_if<cmd::confirm_reservation>(&cmd))
      return c->reservation == a_.reservation;
    if (auto* r = std::get_if<cmd::release_reservation>(&cmd))
      return r->reservation == a_.reservation;
    return false;
  }

  /// What is due by now; the reservation is left to the command when
  /// `reservation_settled_by_command`.
  void timers(bool reservation_settled_by_command) {
    if (a_.in_wrap_up && a_.wrap_until_ms <= now_)
      emit(agent_wrap_up_ended{a_.id});
    if (p_.feature_agent_heartbeat && a_.fresh && a_.last_heartbeat_ms > 0 && !heartbeats_waiting_ &&
        now_ - a_.last_heartbeat_ms >= p_.heartbeat_timeout_ms) {
      emit(agent_heartbeat_expired{a_.id, "heartbeat-timeout", (now_ - a_.last_heartbeat_ms) / 1000});
      expired_now_ = true;
    }
    if (!reservation_settled_by_command && a_.reservation != 0 && a_.reserved_until_ms <= now_) {
      // The call side never confirmed: the reservation ends by itself.
      end_reservation();
      if (!a_.offer_id.empty())
        emit(agent_offer_ended{a_.id, a_.offer_id, a_.offer_call, "reservation-timeout", false});
    }
  }

  /// Follow-up rules: auto-pause, then readiness. True when it emitted.
  bool settle() {
    size_t before = out_.events.size();
    if (p_.agent_max_no_answer > 0 && !a_.paused && a_.missed >= p_.agent_max_no_answer)
      emit(agent_paused{a_.id, "auto-pause", a_.missed});
    int64_t r = readiness_score(a_, p_, now_);
    if (heartbeats_waiting_ && r < a_.readiness) {
      // callq is behind and this agent's heartbeat may be waiting in line:
      // its age lowers nothing now (the next heartbeat would raise it
      // again); what else changed (a missed offer) still does.
      int64_t on_time = readiness_score(a_, p_, now_, now_);
      r = std::min(on_time, a_.readiness);
    }
    if (r != a_.readiness)
      emit(agent_readiness_changed{a_.id, r, a_.readiness});
    return out_.events.size() > before;
  }

  reply on(const cmd::heartbeat& x) {
    if (!a_.exists())
      return unknown();
    if (a_.token_hash.size() != x.token_hash.size() || a_.token_hash != x.token_hash)
      return reply::fail(outcome::unauthorized, "invalid agent token");
    agent_status status = agent_status::offline;
    parse_status(x.status, &status);
    a_.last_heartbeat_ms = now_;
    if (!a_.fresh)
      emit(agent_heartbeat_resumed{a_.id});
    if (x.device_registered && a_.device != *x.device_registered)
      emit(agent_device_changed{a_.id, *x.device_registered});
    if (a_.paused && status != agent_status::available)
      emit(agent_unpaused{a_.id, "agent-status"});
    std::string reason = status == agent_status::on_break ? x.reason : std::string{};
    if (a_.status != status || (status == agent_status::on_break && a_.break_reason != reason))
      emit(agent_status_changed{a_.id, status_name(status), status_name(a_.status), reason});
    settle();
    return reply::of(answer());
  }

  reply on(const cmd::wrap_up& x) {
    if (!a_.exists())
      return unknown();
    if (a_.token_hash.size() != x.token_hash.size() || a_.token_hash != x.token_hash)
      return reply::fail(outcome::unauthorized, "invalid agent token");
    if (x.call_sid.empty() || x.call_sid != a_.last_call)
      return reply::fail(outcome::forbidden,
                         "call " + x.call_sid + " is not agent " + a_.id + "'s last call");
    bool asked = !x.dispositions.empty();
    bool known = std::find(x.dispositions.begin(), x.dispositions.end(), x.disposition) !=
                 x.dispositions.end();
    // A Ready alone after the outcome is recorded only ends wrap-up.
    bool records = !x.disposition.empty() || !x.notes.empty() || (asked && !a_.last_call_recorded);
    if (records) {
      if (asked && !known)
        return reply::fail(outcome::invalid, "disposition must be one of the queue's dispositions");
      if (!asked && !x.disposition.empty())
        return reply::fail(outcome::invalid, "the queue asks no disposition");
      if (a_.last_call_recorded)
        return reply::fail(outcome::conflict, "the outcome of call " + x.call_sid +
                                                  " is already recorded");
      emit(agent_wrap_up_recorded{a_.id, x.call_sid, a_.last_call_queue, x.disposition, x.notes});
    }
    if (x.ready && a_.in_wrap_up)
      emit(agent_wrap_up_ended{a_.id});
    return reply::of(answer());
  }

  reply on(const cmd::put_agent& x) {
    if (a_.exists()) {
      emit(agent_updated{x.agent_id, x.display_name, x.client_identity, x.queues, x.skills,
                         x.penalties, x.skill_levels});
      return reply::of(answer());
    }
    emit(agent_created{x.agent_id, x.display_name, x.client_identity, x.token_hash, x.queues,
                       x.skills, x.penalties, x.skill_levels});
    return reply::of(answer(), outcome::created);
  }

  reply on(const cmd::delete_agent&) {
    if (!a_.exists())
      return unknown();
    if (!a_.offer_id.empty())
      out_.rescinds.push_back({a_.offer_call, cmd::rescind_offer{a_.offer_id, "agent-removed", a_.id}});
    end_reservation();
    if (a_.status != agent_status::offline)
      emit(agent_status_changed{a_.id, "offline", status_name(a_.status), ""});
    agent_answer gone = answer();
    emit(agent_removed{a_.id});
    return reply::of(gone);
  }

  reply on(const cmd::tick&) { return reply{}; }  // timers() did it

  reply on(const cmd::heartbeat_cleanup&) {
    cleanup_answer c;
    if (!a_.exists())
      return reply::of(c);
    c.checked = 1;
    if (expired_now_)  // timers() expired it just now
      c.ids.push_back(a_.id);
    return reply::of(c);
  }

  reply on(const cmd::recover&) {
    apply_restart(a_);
    end_reservation();
    if (a_.exists() && !a_.offer_id.empty())
      emit(agent_offer_ended{a_.id, a_.offer_id, a_.offer_call, "recovered", false});
    return reply{};
  }

  reply on(const cmd::reserve& x) {
    int checks = x.checks < 0 ? agent_checks_of(p_) : x.checks;
    if (!a_.exists() || a_.reservation != 0 || ((eligible_under_checks(a_, p_) >> checks) & 1) == 0)
      return reply::fail(outcome::conflict, "agent " + a_.id + " is not free");
    if (!meets_requirement(a_.skill_levels, x.require))
      return reply::fail(outcome::conflict, "agent " + a_.id + " lacks the call's skills");
    if (!member_of(a_, x.queue))
      return reply::fail(outcome::conflict, "agent " + a_.id + " is not a member of " + x.queue);
    emit(agent_offer_received{a_.id, x.offer_id, x.call_sid, x.queue});
    a_.reservation = x.reservation;
    a_.reserved_for = x.call_sid;
    a_.reserved_until_ms = now_ + p_.reservation_timeout_ms;
    return reply{};
  }

  reply on(const cmd::confirm_reservation& x) {
    if (a_.reservation == x.reservation)
      end_reservation();
    return reply{};
  }

  reply on(const cmd::release_reservation& x) {
    if (a_.reservation == x.reservation) {
      end_reservation();
      if (!a_.offer_id.empty())
        emit(agent_offer_ended{a_.id, a_.offer_id, a_.offer_call, x.reason, false});
    }
    return reply{};
  }

  reply on(const cmd::offer_update& x) {
    const offer_notice& n = x.notice;
    if (!a_.exists())
      return reply{};
    switch (n.what) {
      case offer_notice::kind::answered:
        if (a_.offer_id == n.offer_id)
          emit(agent_offer_answered{a_.id, n.offer_id, n.call_sid});
        break;
      case offer_notice::kind::ended:
        if (a_.offer_id == n.offer_id || a_.on_call == n.call_sid)
          emit(agent_offer_ended{a_.id, n.offer_id, n.call_sid, n.reason, n.missed});
        break;
      case offer_notice::kind::finished:
        if (a_.on_call == n.call_sid || a_.offer_call == n.call_sid) {
          emit(agent_wrap_up_started{a_.id, n.call_sid, now_ + p_.wrap_up_ms});
          if (p_.wrap_up_ms <= 0)
            emit(agent_wrap_up_ended{a_.id});
        }
        break;
    }
    return reply{};
  }

  agent_state& a_;
  const policy& p_;
  int64_t now_;
  agent_decision out_;
  bool expired_now_ = false;
  bool heartbeats_waiting_ = false;
};

}  // namespace

agent_decision decide(agent_state& state, const agent_command& c, const policy& p,
                      int64_t now_ms, bool heartbeats_waiting) {
  return decider(state, p, now_ms, heartbeats_waiting).run(c);
}

int64_t next_deadline(const agent_state& a, const policy& p) {
  int64_t due = 0;
  auto at = [&](int64_t t) { due = due == 0 ? t : std::min(due, t); };
  if (!a.exists())
    return 0;
  if (p.feature_agent_heartbeat && a.fresh && a.last_heartbeat_ms > 0)
    at(a.last_heartbeat_ms + p.heartbeat_timeout_ms);
  if (a.in_wrap_up)
    at(a.wrap_until_ms);
  if (a.reservation != 0)
    at(a.reserved_until_ms);
  return due;
}

agent_view view_of(const agent_state& a, const policy& p) {
  agent_view v;
  v.id = a.id;
  v.identity = a.identity;
  v.members = a.members;
  v.skills = a.skill_levels;
  v.eligible_under = a.exists() && a.reservation == 0 ? eligible_under_checks(a, p) : 0;
  v.eligible = ((v.eligible_under >> agent_checks_of(p)) & 1) != 0;
  v.staffed = a.exists() && is_staffed(a, p);
  v.rank = p.feature_enhanced_discovery ? a.readiness : 0;
  v.idle_since_ms = a.idle_since_ms;
  v.version = a.version;
  return v;
}

bool same_view(const agent_view& a, const agent_view& b) {
  return a.eligible == b.eligible && a.eligible_under == b.eligible_under &&
         a.staffed == b.staffed && a.rank == b.rank &&
         a.idle_since_ms == b.idle_since_ms && a.members == b.members && a.skills == b.skills &&
         a.identity == b.identity;
}

}  // namespace callq
