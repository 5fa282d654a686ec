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
    hb.token_hash = sha256_hex(token);
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
