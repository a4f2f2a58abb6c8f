#pragma once

#include <span>
#include <string>
#include <string_view>

namespace mlctl::pipeline {

// One file part of a multipart/form-data body.
struct FormFile {
  std::string field;     // the form field, "uploadfile"
  std::string filename;  // servers may read the format from it: "pipeline.yaml"
  std::string content_type;
  std::string_view content;  // must outlive the call
};

struct FormBody {
  std::string content_type;  // "multipart/form-data; boundary=..."
  std::string bytes;
};

// A multipart/form-data body (RFC 7578) holding `files`. The boundary is made from a SHA-256 of
// the contents, so the same files always give the same bytes and the boundary cannot occur in
// them; quotes and line breaks in names are percent-encoded as the RFC asks.
FormBody multipart_form(std::span<const FormFile> files);

}  // namespace mlctl::pipeline
