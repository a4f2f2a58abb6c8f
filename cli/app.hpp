#pragma once

namespace mlctl::cli {

// Parses the command line, runs the chosen command and returns the process exit code.
int run(int argc, char** argv);

}  // namespace mlctl::cli
