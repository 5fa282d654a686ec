// `callq simulate` and `callq staffing` on a generated history's data
// directory: formats, figures and exit codes.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "events/codec.hpp"
#include "replay/commands.hpp"
#include "tests/generated_history.hpp"

using namespace callq;
using namespace callq::replay;
using nlohmann::json;

namespace {

/// Two hours of a generated history on three agents, and its period.
struct history_dir {
  testing::actor_harness x;
  std::string from, to;
  history_dir() : x(testing::history_policy(), 1) {
    testing::history_shape shape;
    shape.agents = 3;
    shape.callers = 120;
    shape.load = 1.0;
    int64_t start = x.now;
    testing::generate_history(x, shape);
    from = events::format_iso8601(start);
    to = events::format_iso8601(x.now + 1);
  }
  /// A file in the data directory's parent holding `text`.
  std::string file(const std::string& name, const std::string& text) {
    auto path = std::filesystem::path(x.data_dir()).parent_path() / name;
    std::ofstream(path) << text;
    return path.string();
  }
  /// A command's arguments for this history's directory and period.
  template <class Args> Args args() {
    Args a;
    a.data_dir = x.data_dir();
    a.from = from;
    a.to = to;
    a.rules = testing::history_policy();
    return a;
  }
  simulate_args simulate() { return args<simulate_args>(); }
  staffing_args staffing() { return args<staffing_args>(); }
};

/// `run`'s exit code, with its standard output in `out` and error in `err`.
template <class Args, class Run>
int run(Run f, const Args& a, std::string* out, std::string* err = nullptr) {
  std::ostringstream o, e;
  int rc = f(a, o, e);
  *out = o.str();
  if (err)
    *err = e.str();
  return rc;
}

}  // namespace

TEST_CASE("callq simulate prints actual beside simulated as table, csv and json") {
  history_dir h;
  auto a = h.simulate();
  a.format = "json";
  std::string out;
  REQUIRE(run(run_simulate, a, &out) == 0);
  json j = json::parse(out);
  REQUIRE(j["queues"].size() == 1);
  auto& total = j["queues"][0]["total"];
  CHECK(total["actual"]["offered"] == 120);
  // The log's own staffing reproduces the history's figures.
  for (auto* k : {"offered", "answered", "abandoned", "serviceLevel", "asaSeconds", "ahtSeconds"})
    CHECK(total["actual"][k] == total["simulated"][k]);
  CHECK(j["staffing"].get<std::string>().find("log") != std::string::npos);

  a.format = "csv";
  REQUIRE(run(run_simulate, a, &out) == 0);
  std::istringstream csv(out);
  std::string header, line, last;
  std::getline(csv, header);
  CHECK(header.rfind("queue,start,actual_offered,simulated_offered,", 0) == 0);
  int rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    last = line;
  }
  CHECK(rows == static_cast<int>(j["queues"][0]["intervals"].size()) + 1);
  CHECK(last.rfind("support,total,120,120,", 0) == 0);

  a.format = "table";
  REQUIRE(run(run_simulate, a, &out) == 0);
  CHECK(out.find("actual / simulated") != std::string::npos);
  CHECK(out.find("120 / 120") != std::string::npos);

  // One agent instead of three: fewer answered within the threshold.
  a.format = "json";
  a.staffing = h.file("one.json", R"({"support": [{"days": ["mon","tue","wed","thu","fri","sat","sun"],
    "from": "00:00", "to": "24:00", "agents": 1}], "timezone": "UTC"})");
  REQUIRE(run(run_simulate, a, &out) == 0);
  json one = json::parse(out);
  auto& t1 = one["queues"][0]["total"];
  CHECK(t1["simulated"]["offered"] == 120);
  CHECK(t1["simulated"]["serviceLevel"].get<double>() < t1["actual"]["serviceLevel"].get<double>());
  CHECK(t1["actual"] == total["actual"]);
}

TEST_CASE("callq simulate refuses bad input with exit 2 and the reason") {
  history_dir h;
  std::string out, err;
  auto a = h.simulate();
  a.from.clear();
  CHECK(run(run_simulate, a, &out, &err) == 2);
  CHECK(err.find("--from and --to are required") != std::string::npos);
  a = h.simulate();
  a.format = "xml";
  CHECK(run(run_simulate, a, &out, &err) == 2);
  CHECK(err.find("--format") != std::string::npos);
  a = h.simulate();
  a.interval = "7m";
  CHECK(run(run_simulate, a, &out, &err) == 2);
  a = h.simulate();
  a.staffing = h.file("absent-dir/none.json", "");
  CHECK(run(run_simulate, a, &out, &err) == 2);
  CHECK(err.find("--staffing: cannot read") != std::string::npos);
  a.staffing = h.file("bad.json", R"({"support": [{"days": ["mon"], "from": "09:00", "to": "08:00", "agents": 2}]})");
  CHECK(run(run_simulate, a, &out, &err) == 2);
  CHECK(!err.empty());
  a.staffing = h.file("sales.json", R"({"sales": [{"days": ["mon"], "from": "09:00", "to": "17:00", "agents": 2}]})");
  CHECK(run(run_simulate, a, &out, &err) == 2);
  CHECK(err.find("sales") != std::string::npos);
  a = h.simulate();
  a.queues = h.file("queues.json", "{not json");
  CHECK(run(run_simulate, a, &out, &err) == 2);
  a = h.simulate();
  a.from = "2001-01-01T00:00:00Z";
  a.to = "2001-01-02T00:00:00Z";
  CHECK(run(run_simulate, a, &out, &err) == 2);
  CHECK(err.find("no calls arrived") != std::string::npos);
  a = h.simulate();
  a.data_dir = h.file("not-a-dir", "x");
  CHECK(run(run_simulate, a, &out, &err) == 2);
}

TEST_CASE("callq staffing: agents per interval for a target, more for a stricter one, bad targets exit 2") {
  history_dir h;
  auto a = h.staffing();
  a.format = "json";
  std::string out, err;
  REQUIRE(run(run_staffing, a, &out) == 0);
  json loose = json::parse(out);
  CHECK(loose["target"]["ratio"] == 0.8);
  CHECK(loose["target"]["seconds"] == 20);
  REQUIRE(!loose["intervals"].empty());
  int offered = 0;
  for (auto& i : loose["intervals"]) {
    offered += i["offered"].get<int>();
    CHECK(i["queue"] == "support");
    CHECK(i["agents"].get<int>() >= 1);
    CHECK(i["erlangServiceLevel"].get<double>() >= 0.8);
    CHECK(i["ahtSeconds"].get<double>() > 0);
    // An agent's time per call: talk, ring and wrap-up.
    CHECK(i["handleSeconds"].get<double>() >= i["ahtSeconds"].get<double>() + 15);
  }
  CHECK(offered == 120);

  a.target = "0.95/10";
  REQUIRE(run(run_staffing, a, &out) == 0);
  json strict = json::parse(out);
  REQUIRE(strict["intervals"].size() == loose["intervals"].size());
  int more = 0;
  for (size_t k = 0; k < strict["intervals"].size(); ++k) {
    CHECK(strict["intervals"][k]["agents"].get<int>() >= loose["intervals"][k]["agents"].get<int>());
    more += strict["intervals"][k]["agents"].get<int>() > loose["intervals"][k]["agents"].get<int>();
  }
  CHECK(more > 0);

  a.format = "csv";
  REQUIRE(run(run_staffing, a, &out) == 0);
  CHECK(out.rfind("queue,start,offered,aht_seconds,handle_seconds,patience_seconds,agents,", 0) == 0);
  a.format = "table";
  REQUIRE(run(run_staffing, a, &out) == 0);
  CHECK(out.find("agents needed for 95% answered within 10 s") != std::string::npos);

  for (auto* bad : {"", "0.8", "80/20", "0.8/-5", "x/y", "0/20"}) {
    a.target = bad;
    CAPTURE(bad);
    CHECK(run(run_staffing, a, &out, &err) == 2);
    CHECK(err.find("target") != std::string::npos);
  }
}
