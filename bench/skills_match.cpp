#include "bench/skills_match.hpp"

#include <cstdio>
#include <random>

#include "actors/dispatcher/match_index.hpp"
#include "bench/bench_util.hpp"

namespace callq::bench {

namespace {

using clk = std::chrono::steady_clock;
using levels = std::map<std::string, int64_t>;

std::string skill(int i) { return "s" + std::to_string(i); }
std::string queue(int i) { return "q" + std::to_string(i); }

}  // namespace

int skills_run(long agents, long calls, long samples) {
  const int skills = 30, queues = 20;
  const int64_t now = 1'795'608'000'000;
  std::mt19937_64 rng(7);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  policy rules;
  match_index ix(rules, 7);
  // Queue i asks for its own skill at level 7, then 3 after a minute, then
  // anyone after three minutes.
  std::vector<std::vector<skill_step>> steps(queues);
  for (int q = 0; q < queues; ++q) {
    steps[static_cast<size_t>(q)] = {{0, {{skill(q), 7}}}, {60, {{skill(q), 3}}}, {180, {}}};
    queue_config c;
    c.skill_steps = steps[static_cast<size_t>(q)];
    ix.configure(queue(q), &c);
  }
  // Agents: 5 distinct skills of 30 at levels 1-10, members of 2 queues,
  // logged in but not ready.
  std::vector<agent_view> views(static_cast<size_t>(agents));
  for (long i = 0; i < agents; ++i) {
    agent_view& v = views[static_cast<size_t>(i)];
    v.id = "agent" + std::to_string(i);
    v.identity = v.id;
    while (v.skills.size() < 5)
      v.skills[skill(pick(skills))] = 1 + pick(10);
    // Mostly the queues of their own skills, as a contact centre staffs.
    for (auto& [s, level] : v.skills)
      if (int q = std::stoi(s.substr(1)); q < queues && v.members.size() < 2)
        v.members[queue(q)] = membership{};
    while (v.members.size() < 2)
      v.members[queue(pick(queues))] = membership{};
    v.staffed = true;
    v.idle_since_ms = now - pick(600'000);
    v.version = 1;
    ix.update(v);
  }
  // Calls: waited 0-300 s, so each queue holds calls at each of its three
  // steps; one in twenty asks (skills=) for the queue's skill at 5 and
  // the next skill at 2 (a fourth group per queue).
  std::map<std::string, levels> needs;
  auto t0 = clk::now();
  for (long i = 0; i < calls; ++i) {
    int q = pick(queues);
    int64_t waited = pick(300);
    levels extra;
    if (pick(20) == 0)
      extra = {{skill(q), 5}, {skill((q + 1) % skills), 2}};
    requirement r = requirement_at(steps[static_cast<size_t>(q)], waited, &extra);
    call_view c;
    c.sid = call_sid("CA" + std::to_string(i));
    c.queue = queue(q);
    c.key = {false, pick(10) == 0 ? 5 : 0, now - waited * 1000, static_cast<uint64_t>(i)};
    c.dispatchable = true;
    c.edit_routing().require = r.require;
    c.version = 1;
    needs[c.sid.str()] = c.routing().require;
    ix.update(c);
  }
  std::printf("  skills run: %ld agents (5 skills of %d each, 2 queues), %ld waiting calls in %d "
              "queues (3 skill steps) indexed in %.2f s\n",
              agents, skills, calls, queues, seconds_since(t0));

  // One agent at a time becomes ready: the index finds the best call it
  // may take (or none), and holds both.
  std::vector<double> us;
  long matched = 0, broken = 0;
  us.reserve(static_cast<size_t>(samples));
  for (long i = 0; i < samples && i < agents; ++i) {
    agent_view v = views[static_cast<size_t>(i)];
    v.eligible = true;
    v.version = 2;
    auto start = clk::now();
    ix.update(v);
    auto m = ix.next(now, false);
    us.push_back(std::chrono::duration<double, std::micro>(clk::now() - start).count());
    if (!m)
      continue;
    ++matched;
    broken += !meets_requirement(v.skills, needs[m->call_sid]);
  }
  std::printf("  skills run: agent ready -> offer decided: p50 %.1f us, p99 %.1f us, max %.1f us "
              "(%zu agents, %ld matched, %ld matches lacking a skill)\n",
              percentile(us, 50), percentile(us, 99), percentile(us, 100), us.size(), matched,
              broken);

  // Calls relax: each moves to its next step's group.
  std::vector<double> relax;
  for (long i = 0; i < std::min(samples, calls); ++i) {
    std::string sid = "CA" + std::to_string(i);
    const call_view* c = ix.find_call(sid);
    if (c == nullptr || !c->dispatchable || c->routing().require.empty())
      continue;
    call_view next = *c;
    next.edit_routing().require.clear();
    next.version = c->version + 1;
    auto start = clk::now();
    ix.update(next);
    relax.push_back(std::chrono::duration<double, std::micro>(clk::now() - start).count());
  }
  std::printf("  skills run: a waiting call's requirement relaxed (index update): p50 %.1f us, "
              "p99 %.1f us (%zu calls)\n",
              percentile(relax, 50), percentile(relax, 99), relax.size());
  return broken == 0 ? 0 : 1;
}

}  // namespace callq::bench
