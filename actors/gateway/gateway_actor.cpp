#include "actors/gateway/gateway_actor.hpp"

#include <chrono>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/messages.hpp"

namespace callq {

namespace {

struct worker_state {
  gateway_options opts;
  std::shared_ptr<gateway_stats> stats;
  rest_report report;
  std::unique_ptr<httplib::Client> client;
  static inline const char* name = "callq.gateway";
};

enum class rest_outcome { ok, retry, fail };

// One REST request. A redirect may be retried after any failure (it is
// idempotent); a call creation only when the failure proves no call was
// created (429, or no connection at all). A created call's CallSid goes to
// `*created_sid` ("" when Twilio's answer has none).
rest_outcome perform(worker_state& st, const rest_job& job, std::string& why,
                     std::string* created_sid) {
  const auto& o = st.opts;
  std::string path = "/2010-04-01/Accounts/" + o.account_sid + "/Calls";
  std::string body;
  if (job.what == rest_job::kind::redirect_call) {
    path += "/" + job.call_sid + ".json";
    body = "Url=" + form_encode(o.public_base_url + "/api/webhooks/twilio/connect-agent?offer=" +
                                job.offer_id) +
           "&Method=POST";
  } else {
    path += ".json";
    body = "To=" + form_encode("client:" + job.identity) + "&From=" + form_encode(o.caller_id) +
           "&Url=" + form_encode(o.public_base_url +
                                 "/api/webhooks/twilio/callback-connect?callback=" + job.callback_id) +
           "&Method=POST";
  }
  auto res = st.client->Post(path.c_str(), body, "application/x-www-form-urlencoded");
  bool create = job.what == rest_job::kind::create_call;
  if (!res) {
    why = "REST request failed: " + httplib::to_string(res.error());
    bool not_sent = res.error() == httplib::Error::Connection;
    return !create || not_sent ? rest_outcome::retry : rest_outcome::fail;
  }
  if (res->status >= 200 && res->status < 300) {
    if (create) {
      auto body_json = nlohmann::json::parse(res->body, nullptr, false);
      if (body_json.is_object() && body_json.contains("sid") && body_json["sid"].is_string())
        *created_sid = body_json["sid"].get<std::string>();
    }
    return rest_outcome::ok;
  }
  why = "Twilio answered HTTP " + std::to_string(res->status);
  if (res->status == 429)
    return rest_outcome::retry;
  if (res->status >= 500)
    return create ? rest_outcome::fail : rest_outcome::retry;
  return rest_outcome::fail;
}

caf::behavior worker(caf::stateful_actor<worker_state>* self, gateway_options opts,
                     std::shared_ptr<gateway_stats> stats, rest_report report) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.stats = std::move(stats);
  st.report = std::move(report);
  st.client = std::make_unique<httplib::Client>(st.opts.api_base);
  st.client->set_basic_auth(st.opts.account_sid.c_str(), st.opts.auth_token.c_str());
  st.client->set_connection_timeout(st.opts.connect_timeout_s, 0);
  st.client->set_read_timeout(st.opts.read_timeout_s, 0);
  st.client->set_write_timeout(st.opts.read_timeout_s, 0);
  st.client->set_keep_alive(true);
  st.client->set_tcp_nodelay(true);
  return {
      [=](rest_job& job) {
        auto& st = self->state;
        std::string why, created_sid;
        auto result = perform(st, job, why, &created_sid);
        if (result == rest_outcome::ok) {
          st.stats->ok += 1;
          if (!created_sid.empty() && st.report)
            st.report(cmd::callback_call_placed{job.callback_id, created_sid, job.callback_attempt});
          return;
        }
        if (result == rest_outcome::retry && job.attempt < st.opts.max_attempts) {
          st.stats->retried += 1;
          auto delay = std::chrono::milliseconds(st.opts.first_backoff_ms << (job.attempt - 1));
          job.attempt += 1;
          self->delayed_send(self, delay, job);
          return;
        }
        st.stats->failed += 1;
        cmd::command c;
        if (job.what == rest_job::kind::redirect_call)
          c = cmd::redirect_failed{job.offer_id, why};
        else
          c = cmd::callback_call_failed{job.callback_id, why};
        if (st.report)
          st.report(c);
      },
  };
}

struct front_state {
  std::vector<caf::actor> workers;
  size_t next = 0;
  static inline const char* name = "callq.gateway-front";
};

caf::behavior front(caf::stateful_actor<front_state>* self, std::vector<caf::actor> workers) {
  self->state.workers = std::move(workers);
  self->set_exit_handler([=](caf::exit_msg& m) {
    for (auto& w : self->state.workers)
      self->send_exit(w, m.reason);
    self->quit(m.reason);
  });
  return {
      [=](rest_job& job) {
        // The same call always goes to the same worker, so requests for one
        // call keep their order.
        auto& st = self->state;
        size_t i = std::hash<std::string>{}(job.call_sid + job.callback_id) % st.workers.size();
        self->send(st.workers[i], std::move(job));
      },
  };
}

}  // namespace

caf::actor spawn_gateway(caf::actor_system& sys, const gateway_options& opts,
                         std::shared_ptr<gateway_stats> stats, rest_report report) {
  std::vector<caf::actor> workers;
  for (int i = 0; i < std::max(1, opts.workers); ++i)
    workers.push_back(sys.spawn<caf::detached>(worker, opts, stats, report));
  return sys.spawn(front, std::move(workers));
}

}  // namespace callq
