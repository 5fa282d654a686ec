// Writes valid snapshots for fuzz_snapshot's seed corpus, made with this
// build's own encoder (so the seeds follow the format when it changes):
// the state of replay/testdata/scenario.jsonl after a quarter, half and
// all of its events, and an empty world.
//
//   snapshot_seeds SCENARIO.jsonl OUT_DIR
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/world/snapshot.hpp"
#include "events/codec.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: snapshot_seeds SCENARIO.jsonl OUT_DIR\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  std::vector<callq::events::event> evs;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    callq::events::event e;
    e.ts_ms = j.at("ts").get<int64_t>();
    if (auto st = callq::events::payload_from_json(j.at("type").get<std::string>(), j.at("data"), &e.body);
        !st) {
      std::cerr << "snapshot_seeds: " << st.message() << "\n";
      return 1;
    }
    evs.push_back(std::move(e));
  }
  if (evs.empty()) {
    std::cerr << "snapshot_seeds: no events in " << argv[1] << "\n";
    return 1;
  }
  bool ok = true;
  auto write = [&](const std::string& name, const callq::world& w, int64_t ts) {
    std::string bytes = callq::encode_snapshot(w.image(), w.digest(), ts, callq::events::chain_value{});
    // A seed that does not decode would keep the fuzzer out of the decoder.
    callq::world back{callq::policy{}};
    callq::snapshot_info info;
    if (auto st = callq::decode_snapshot(bytes, callq::policy{}, &back, &info); !st) {
      std::cerr << "snapshot_seeds: " << name << " does not decode: " << st.message() << "\n";
      ok = false;
    }
    std::ofstream out(std::string(argv[2]) + "/" + name, std::ios::binary);
    out << bytes;
  };
  callq::world w{callq::policy{}};
  write("seed_empty", w, 0);
  for (size_t i = 0; i < evs.size(); ++i) {
    w.apply(i + 1, evs[i]);
    size_t n = i + 1;
    if (n == evs.size() / 4 || n == evs.size() / 2 || n == evs.size())
      write("seed_after_" + std::to_string(n), w, evs[i].ts_ms);
  }
  return ok ? 0 : 1;
}
