// `fake-twilio`: the tests' fake Twilio REST API as a program, to try
// callq without a Twilio account (README, "From nothing to a first
// answered call"). Prints its base URL (give it to callq as
// TWILIO_API_BASE), then one line per request callq makes (a redirect of a
// call to an agent, a callback's outbound call), until SIGINT or SIGTERM.
#include <csignal>
#include <iostream>

#include "tests/fake_twilio.hpp"

namespace {
volatile std::sig_atomic_t stop = 0;
void on_signal(int) { stop = 1; }
}  // namespace

int main() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  callq::testing::fake_twilio tw;
  std::cout << "fake Twilio REST API on " << tw.base_url() << std::endl;
  size_t shown = 0;
  while (stop == 0) {
    // Wakes at each new request; a signal is seen within a second.
    tw.wait_for([&](const std::vector<callq::testing::rest_request>& r) { return r.size() > shown; },
                std::chrono::seconds(1));
    auto reqs = tw.requests();
    for (; shown < reqs.size(); ++shown) {
      auto& r = reqs[shown];
      std::cout << r.method << ' ' << r.path;
      for (auto& [k, v] : r.form)
        std::cout << ' ' << k << '=' << v;
      std::cout << std::endl;
    }
  }
  return 0;
}
