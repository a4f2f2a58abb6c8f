#include <mlctl/core/error.hpp>

namespace mlctl {

Error& Error::context(std::string_view what) {
  message_ = std::string(what) + ": " + message_;
  return *this;
}

Error& Error::with_hint(std::string hint) {
  hint_ = std::move(hint);
  return *this;
}

const char* errc_name(Errc code) {
  switch (code) {
    case Errc::failed: return "failed";
    case Errc::invalid: return "invalid";
    case Errc::not_found: return "not_found";
    case Errc::precondition: return "precondition";
    case Errc::remote: return "remote";
  }
  return "failed";
}

}  // namespace mlctl
