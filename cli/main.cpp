#include "app.hpp"

int main(int argc, char** argv) { return mlctl::cli::run(argc, argv); }
