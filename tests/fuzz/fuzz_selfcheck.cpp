// Not a target of callq's code: the fuzz step's own self-check
// (scripts/fuzz.sh). It crashes on an input starting "CRASH", leaks on
// one starting "LEAK" and hangs on one starting "HANG", so that the CI step
// can prove it fails on each (tests/fuzz/selfcheck/ holds those inputs).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

static volatile bool forever = true;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto starts = [&](const char* word) {
    size_t n = std::strlen(word);
    return size >= n && std::memcmp(data, word, n) == 0;
  };
  if (starts("CRASH"))
    std::abort();
  if (starts("LEAK")) {
    void* volatile lost = std::malloc(64);
    (void)lost;
  }
  if (starts("HANG"))
    while (forever) {
    }
  return 0;
}
