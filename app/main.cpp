// The callq command line: serve, replay, export, report, simulate, staffing,
// verify, snapshot.
#include <iostream>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include "app/serve.hpp"
#include "replay/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"callq: an inbound call queue server for Twilio numbers"};
  app.set_version_flag("--version", "callq " CALLQ_VERSION);
  app.require_subcommand(1);

  callq::app::flag_values serve_flags;
  auto* serve = app.add_subcommand("serve", "Run the server (state is rebuilt from the log)");
  serve->add_option("--bind", serve_flags.bind, "Listen address (CALLQ_BIND)");
  serve->add_option("--port", serve_flags.port, "Listen port, 0 for any free one (CALLQ_PORT)");
  serve->add_option("--data-dir", serve_flags.data_dir, "Event log directory (CALLQ_DATA_DIR)");
  serve->add_option("--store", serve_flags.store, "postgresql:// URL of a PostgreSQL log (CALLQ_STORE)");
  serve->add_option("--config", serve_flags.config_file, "JSON file with the environment variables' keys");

  callq::replay::replay_args replay_args;
  auto* replay = app.add_subcommand("replay", "Rebuild state from the log offline; print a timeline or the state");
  replay->add_option("--data-dir", replay_args.data_dir, "Data directory (its RocksDB log)");
  replay->add_option("--store", replay_args.store, "postgresql:// URL of a PostgreSQL log (default: CALLQ_STORE)")->envname("CALLQ_STORE");
  auto* call_opt = replay->add_option("--call", replay_args.call_sid, "Timeline of one call (CallSid)");
  auto* agent_opt = replay->add_option("--agent", replay_args.agent_id, "Timeline of one agent");
  call_opt->excludes(agent_opt);
  replay->add_option("--until", replay_args.until, "Stop at this ISO 8601 time or sequence number");
  replay->add_flag("--verify", replay_args.verify, "Check rebuilt state against the digests in the log");
  replay->add_flag("--json", replay_args.json, "JSON output");

  callq::replay::export_args export_args;
  auto* exp = app.add_subcommand("export", "Audit export of the event log");
  exp->add_option("--data-dir", export_args.data_dir, "Data directory (its RocksDB log)");
  exp->add_option("--store", export_args.store, "postgresql:// URL of a PostgreSQL log (default: CALLQ_STORE)")->envname("CALLQ_STORE");
  exp->add_option("--format", export_args.format, "jsonl, csv or queue_log")->required();
  exp->add_option("--from", export_args.from, "Only events at or after this ISO 8601 time");
  exp->add_option("--to", export_args.to, "Only events before this ISO 8601 time");
  exp->add_option("-o,--output", export_args.output, "Write to this file instead of stdout");
  exp->add_flag("--redact-phone", export_args.redact_phone, "Mask callers' numbers (country code and last 4 digits kept)");

  callq::replay::report_args report_args;
  auto* rep = app.add_subcommand("report", "Queue and agent figures from the log (offline)");
  rep->add_option("--data-dir", report_args.data_dir, "Data directory (its RocksDB log)");
  rep->add_option("--store", report_args.store, "postgresql:// URL of a PostgreSQL log (default: CALLQ_STORE)")->envname("CALLQ_STORE");
  rep->add_option("--from", report_args.from, "Only events at or after this ISO 8601 time");
  rep->add_option("--to", report_args.to, "Only events before this ISO 8601 time");
  rep->add_option("--interval", report_args.interval, "15m, 1h (default) or 1d");
  rep->add_option("--queue", report_args.queue, "One queue (default: every queue)");
  rep->add_option("--format", report_args.format, "table (default), csv or json");
  rep->add_option("--split", report_args.split, "features: each FEATURE_* path's figures side by side");

  callq::replay::simulate_args sim_args;
  auto* sim = app.add_subcommand("simulate", "Replay a period's callers under other staffing or queue rules (offline)");
  sim->add_option("--data-dir", sim_args.data_dir, "Data directory (its RocksDB log)");
  sim->add_option("--store", sim_args.store, "postgresql:// URL of a PostgreSQL log (default: CALLQ_STORE)")->envname("CALLQ_STORE");
  sim->add_option("--from", sim_args.from, "The period's start (ISO 8601)")->required();
  sim->add_option("--to", sim_args.to, "The period's end (ISO 8601)")->required();
  sim->add_option("--staffing", sim_args.staffing, "Staffing file (default: the log's agents and their hours)");
  sim->add_option("--queues", sim_args.queues, "Queue rules file, the JSON of GET /api/queues (default: the log's)");
  sim->add_option("--interval", sim_args.interval, "15m, 1h (default) or 1d");
  sim->add_option("--format", sim_args.format, "table (default), csv or json");
  sim->add_option("--seed", sim_args.seed, "Seed of the draws (default 1)");

  callq::replay::staffing_args staff_args;
  auto* staff = app.add_subcommand("staffing", "Agents needed per interval for a service level target (offline)");
  staff->add_option("--data-dir", staff_args.data_dir, "Data directory (its RocksDB log)");
  staff->add_option("--store", staff_args.store, "postgresql:// URL of a PostgreSQL log (default: CALLQ_STORE)")->envname("CALLQ_STORE");
  staff->add_option("--from", staff_args.from, "The period's start (ISO 8601)")->required();
  staff->add_option("--to", staff_args.to, "The period's end (ISO 8601)")->required();
  staff->add_option("--target", staff_args.target, "RATIO/SECONDS, e.g. 0.8/20")->required();
  staff->add_option("--interval", staff_args.interval, "15m, 1h (default) or 1d");
  staff->add_option("--format", staff_args.format, "table (default), csv or json");
  staff->add_option("--seed", staff_args.seed, "Seed of the simulation's draws (default 1)");

  callq::replay::verify_args verify_args;
  auto* verify = app.add_subcommand("verify", "Check the log's integrity chain");
  verify->add_option("--data-dir", verify_args.data_dir, "Data directory (its RocksDB log)");
  verify->add_option("--store", verify_args.store, "postgresql:// URL of a PostgreSQL log (default: CALLQ_STORE)")->envname("CALLQ_STORE");

  callq::replay::snapshot_args snapshot_args;
  auto* snap = app.add_subcommand("snapshot", "Write a snapshot of the state at the log's end (offline)");
  snap->add_option("--data-dir", snapshot_args.data_dir, "Data directory (its RocksDB log)");
  snap->add_option("--store", snapshot_args.store, "postgresql:// URL of a PostgreSQL log (default: CALLQ_STORE)")->envname("CALLQ_STORE");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "callq: " << e.what() << "\n\n";
    auto* sub = app.get_subcommands().empty() ? &app : app.get_subcommands().front();
    std::cerr << sub->help();
    return 2;
  }
  if (serve->parsed())
    return callq::app::serve(serve_flags);
  if (replay->parsed())
    return callq::replay::run_replay(replay_args, std::cout, std::cerr);
  if (exp->parsed()) {
    export_args.progress = isatty(STDERR_FILENO) != 0;
    return callq::replay::run_export(export_args, std::cout, std::cerr);
  }
  if (rep->parsed()) {
    report_args.progress = isatty(STDERR_FILENO) != 0;
    return callq::replay::run_report(report_args, std::cout, std::cerr);
  }
  if (sim->parsed() || staff->parsed()) {
    callq::policy rules;
    if (auto st = callq::app::configured_rules(&rules); !st) {
      std::cerr << "callq: " << st.message() << "\n";
      return 2;
    }
    if (sim->parsed()) {
      sim_args.rules = rules;
      return callq::replay::run_simulate(sim_args, std::cout, std::cerr);
    }
    staff_args.rules = rules;
    return callq::replay::run_staffing(staff_args, std::cout, std::cerr);
  }
  if (verify->parsed())
    return callq::replay::run_verify(verify_args, std::cout, std::cerr);
  if (snap->parsed())
    return callq::replay::run_snapshot(snapshot_args, std::cout, std::cerr);
  return 2;
}
