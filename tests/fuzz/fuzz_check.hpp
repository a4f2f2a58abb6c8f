#pragma once

#include <cstdio>
#include <cstdlib>

// A property a fuzz target checks beyond "does not crash": on failure it prints the property and
// aborts, which libFuzzer reports as a crash and saves the input.
#define FUZZ_CHECK(condition)                                                        \
  do {                                                                               \
    if (!(condition)) {                                                              \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                  \
    }                                                                                \
  } while (false)
