#include "actors/supervisor.hpp"

#include <map>
#include <memory>

#include <caf/all.hpp>

namespace callq {

namespace {

caf::behavior supervisor(caf::event_based_actor* self,
                         std::vector<std::pair<std::string, caf::actor>> watched,
                         crash_handler on_crash) {
  auto names = std::make_shared<std::map<caf::actor_addr, std::string>>();
  for (auto& [name, a] : watched) {
    if (!a)
      continue;
    self->monitor(a);
    (*names)[a.address()] = name;
  }
  self->set_down_handler([self, names, on_crash](caf::down_msg& dm) {
    if (dm.reason == caf::exit_reason::user_shutdown || dm.reason == caf::exit_reason::normal ||
        dm.reason == caf::none)
      return;  // a shutdown or a teardown, not a crash
    auto i = names->find(dm.source);
    on_crash(i != names->end() ? i->second : "an actor", self->system().render(dm.reason));
  });
  // Nothing to do but watch; a behavior keeps the actor alive.
  return {[](const std::string&) {}};
}

}  // namespace

caf::actor spawn_supervisor(caf::actor_system& sys,
                            std::vector<std::pair<std::string, caf::actor>> watched,
                            crash_handler on_crash) {
  return sys.spawn(supervisor, std::move(watched), std::move(on_crash));
}

}  // namespace callq
