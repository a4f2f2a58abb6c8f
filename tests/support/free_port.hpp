#pragma once

namespace mlctl::test {

// A port on 127.0.0.1 nobody listens on now, for a server a test starts a moment later (which
// must retry on the rare lost race). Throws std::runtime_error when there is none.
int free_port();

}  // namespace mlctl::test
