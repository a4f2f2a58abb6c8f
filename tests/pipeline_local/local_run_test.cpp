#include "local_run_test.hpp"

#include <fstream>
#include <sstream>

namespace mlctl::pipeline {

std::string LocalRunTest::read_proc_stat(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace mlctl::pipeline
