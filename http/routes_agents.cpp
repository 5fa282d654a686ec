// The routes agents' softphones call: the heartbeat.
#include "http/server.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/dispatcher/queue_config.hpp"
#include "events/codec.hpp"
#include "http/bodies.hpp"
#include "http/form.hpp"
#include "http/metrics.hpp"
#include "http/routes_common.hpp"
#include "http/signature.hpp"
#include "http/web_assets.hpp"
#include "replay/export.hpp"
#include "replay/report.hpp"
#include "actors/world/status_json.hpp"
#include "replay/timeline.hpp"

namespace callq::http {

void server::agent_routes() {
  auto& h = *http_;

  // ----------------------------------------------------------- agents --
  h.Post("/api/agent-heartbeat", [this](const httplib::Request& req, httplib::Response& res) {
    std::string token = bearer(req);
    if (token.empty())
      return send_error_json(res, 401, "missing bearer token");
    cmd::heartbeat hb;
    if (auto st = parse_heartbeat_body(req.body, &hb); !st)
      return send_error_json(res, 400, st.message());
    if (!hb.reason.empty() && hb.status == "break" &&
        std::find(s_.pause_reasons.begin(), s_.pause_reasons.end(), hb.reason) ==
            s_.pause_reasons.end()) {
      std::string list;
      for (auto& r : s_.pause_reasons)
        list += (list.empty() ? "" : ", ") + r;
      return send_error_json(res, 400, "unknown reason '" + hb.reason + "' (AGENT_PAUSE_REASONS: " +
                                           list + ")");
    }
    hb.token_hash = sha256_hex(token);
    // A valid token of another (existing) agent: that agent's data is not
    // its own. An unknown agent stays 404, a wrong token 401.
    std::string owner = rt_.reads().read([&](const world& w) {
      const agent_state* a = w.agent_by_token(hb.token_hash);
      const agent_state* named = w.find_agent(hb.agent_id);
      return a != nullptr && named != nullptr && named->exists() ? a->id : std::string{};
    });
    if (!owner.empty() && owner != hb.agent_id)
      return send_error_json(res, 403, "this token is agent " + owner + "'s, not " + hb.agent_id + "'s");
    auto r = rt_.ask(std::move(hb));
    if (r.failed())
      return send_error_json(res, status_code(r.result), r.reason);
    const auto& a = std::get<agent_answer>(r.body);
    send_json(res, 200, {{"agentId", a.agent_id},
                         {"state", a.state},
                         {"readiness", a.readiness},
                         {"heartbeatIntervalSeconds", a.heartbeat_interval_seconds}});
  });
}

}  // namespace callq::http
