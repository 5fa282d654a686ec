// End to end on a real small file system (a tmpfs the test mounts and
// fills): under webhook load the disk fills up; callq stays up, answers
// 503 to everything that would append while reads keep working, shows it
// in /healthz and /metrics, and resumes by itself once space is back, with
// every acknowledged call still there and the chain intact.
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/callq_process.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/skip.hpp"
#include "tests/temp_dir.hpp"

using namespace callq::testing;
using json = nlohmann::json;

namespace {

/// A tmpfs of `mib` MiB mounted for the test's lifetime.
struct small_fs {
  std::string path;
  bool mounted = false;
  small_fs(const std::string& at, int mib) : path(at) {
    std::filesystem::create_directories(path);
    std::string opts = "size=" + std::to_string(mib) + "m";
    mounted = mount("tmpfs", path.c_str(), "tmpfs", 0, opts.c_str()) == 0;
  }
  ~small_fs() {
    if (mounted)
      umount2(path.c_str(), MNT_DETACH);
  }
  int64_t free_bytes() const {
    struct statvfs s {};
    statvfs(path.c_str(), &s);
    return static_cast<int64_t>(s.f_bavail) * static_cast<int64_t>(s.f_frsize);
  }
};

std::map<std::string, std::string> call(const std::string& sid) {
  return {{"CallSid", sid}, {"From", "+15551230001"}, {"To", "+15559990000"}, {"AccountSid", "ACtest"}};
}

/// Asks /healthz until `pred` holds or `seconds` pass (no sleeping: each
/// try is a request).
bool health_until(callq_process& p, double seconds, const std::function<bool(const json&)>& pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = p.json_request("GET", "/healthz", "");
    if (r.status == 200 && pred(json::parse(r.body)))
      return true;
  }
  return false;
}

}  // namespace

TEST_CASE("e2e: a full disk under webhook load: 503s, no crash, nothing acknowledged lost, resumes") {
  temp_dir dir;
  small_fs fs(dir.path() + "/small", 32);
  if (!fs.mounted)
    CALLQ_SKIP("cannot mount a tmpfs here (not root?): the full-disk end-to-end test needs one");
  fake_twilio tw;
  callq_process p(fs.path + "/data", tw.base_url(),
                  {{"CALLQ_DISK_LOW", "8MiB"}, {"CALLQ_DISK_RESERVE", "2MiB"}});
  REQUIRE(p.ready());
  // Leave about 3 MiB free.
  std::string filler = fs.path + "/filler";
  {
    std::ofstream f(filler, std::ios::binary);
    std::string block(1 << 20, 'x');
    while (fs.free_bytes() > (4LL << 20))
      f.write(block.data(), static_cast<std::streamsize>(block.size())).flush();
  }
  std::vector<std::string> acknowledged;
  int refused = 0;
  std::string reason;
  for (int i = 0; i < 50'000 && refused < 20; ++i) {
    std::string sid = "CAfull" + std::to_string(i);
    auto r = p.webhook("voice", "", call(sid));
    if (r.status == 200) {
      acknowledged.push_back(sid);
    } else {
      REQUIRE(r.status == 503);
      reason = r.body;
      ++refused;
    }
  }
  INFO("acknowledged " << acknowledged.size() << ", last refusal: " << reason);
  REQUIRE(refused == 20);
  REQUIRE(acknowledged.size() > 100);
  // Still up: health says why (new calls refused under the reserve, or
  // every append refused at the floor), reads work, metrics show it.
  auto h = json::parse(p.json_request("GET", "/healthz", "").body);
  INFO("healthz " << h.dump());
  CHECK(h["status"] == "degraded");
  CHECK((h["storage"]["writable"] == false || h["storage"]["reserveReached"] == true));
  auto metrics = p.json_request("GET", "/metrics", "");
  CHECK(metrics.status == 200);
  CHECK(metrics.body.find("callq_storage_disk_low 1") != std::string::npos);
  auto status = p.admin_get("/api/queue/status");
  CHECK(status["queues"][0]["waiting"].size() == acknowledged.size());

  // Space comes back: callq resumes by itself.
  std::filesystem::remove(filler);
  REQUIRE(health_until(p, 20, [](const json& j) { return j["status"] == "ok"; }));
  auto r = p.webhook("voice", "", call("CAafter"));
  CHECK(r.status == 200);
  acknowledged.push_back("CAafter");
  status = p.admin_get("/api/queue/status");
  std::vector<std::string> waiting;
  for (auto& w : status["queues"][0]["waiting"])
    waiting.push_back(w["callSid"].get<std::string>());
  CHECK(waiting == acknowledged);
  CHECK(p.terminate() == 0);

  // The log after a clean stop: every acknowledged call, chain intact.
  std::string out;
  FILE* f = popen((std::string(CALLQ_BINARY) + " verify --data-dir " + fs.path + "/data").c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[512];
  while (fgets(buf, sizeof buf, f) != nullptr)
    out += buf;
  CHECK(pclose(f) == 0);
  CHECK(out.find("OK: ") == 0);
}
