// A test that cannot run on this machine (no root for a tmpfs, a tool
// missing) says so to CTest, which then counts it SKIPPED, not passed
// (SKIP_REGULAR_EXPRESSION "CALLQ-SKIPPED:", callq_catch_tests in the
// top-level CMakeLists.txt); ./scripts/test.sh lists every skipped test.
#pragma once

#include <iostream>

/// Prints why the running test case cannot run here and returns from it.
#define CALLQ_SKIP(reason)                                      \
  do {                                                          \
    std::cout << "CALLQ-SKIPPED: " << (reason) << std::endl;    \
    return;                                                     \
  } while (0)
