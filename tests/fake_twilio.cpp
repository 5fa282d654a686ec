#include "tests/fake_twilio.hpp"

#include <httplib.h>

#include "http/form.hpp"

namespace callq::testing {

fake_twilio::fake_twilio() : server_(std::make_unique<httplib::Server>()) {
  server_->Post(R"(/2010-04-01/Accounts/([^/]+)/Calls(/[^/]+)?\.json)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  rest_request r;
                  r.method = req.method;
                  r.path = req.path;
                  r.authorization = req.get_header_value("Authorization");
                  http::form_fields f;
                  (void)http::parse_form(req.body, &f);
                  for (auto& [k, v] : f)
                    r.form[k] = v;
                  int status = 0;
                  std::chrono::milliseconds hold{0};
                  size_t index = 0;
                  {
                    std::lock_guard<std::mutex> lock(mu_);
                    if (failures_left_ > 0) {
                      --failures_left_;
                      status = failure_status_;
                    } else if (stalls_left_ > 0) {
                      --stalls_left_;
                      hold = stall_;
                    }
                    index = requests_.size();
                    requests_.push_back(r);
                  }
                  cv_.notify_all();
                  if (hold.count() > 0) {  // a deadline, released early when the fake stops
                    std::unique_lock<std::mutex> lock(mu_);
                    cv_.wait_for(lock, hold, [this] { return stopping_; });
                  }
                  bool create = req.matches[2].length() == 0;
                  if (status == 0)
                    status = create ? 201 : 200;
                  res.status = status;
                  // A created call's sid names the request that made it
                  // (fake_twilio::created_sid); a redirect answers the call's.
                  std::string sid = create ? created_sid(index) : "CAredirected";
                  res.set_content(status < 300 ? R"({"sid":")" + sid + R"(","status":"queued"})"
                                               : R"({"code":20500,"message":"fake failure"})",
                                  "application/json");
                });
  port_ = server_->bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

fake_twilio::~fake_twilio() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  server_->stop();
  thread_.join();
}

void fake_twilio::fail_next(int n, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_left_ = n;
  failure_status_ = status;
}

void fake_twilio::stall_next(int n, std::chrono::milliseconds hold) {
  std::lock_guard<std::mutex> lock(mu_);
  stalls_left_ = n;
  stall_ = hold;
}

std::vector<rest_request> fake_twilio::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

bool fake_twilio::wait_for(const std::function<bool(const std::vector<rest_request>&)>& pred,
                           std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return pred(requests_); });
}

rest_request fake_twilio::wait_request(size_t index, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return requests_.size() > index; }))
    return {};
  return requests_[index];
}

}  // namespace callq::testing
