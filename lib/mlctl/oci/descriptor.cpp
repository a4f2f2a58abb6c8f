#include <mlctl/oci/descriptor.hpp>
#include <mlctl/oci/json_fields.hpp>

namespace mlctl::oci {

std::string to_json(const Descriptor& descriptor) {
  return json_fields::canonical(json_fields::descriptor_json(descriptor));
}

Result<Descriptor> parse_descriptor(std::string_view json) {
  return json_fields::parse_document<Descriptor>(json, "descriptor", [](const json_fields::Json& document) {
    return json_fields::descriptor_from(document, "");
  });
}

}  // namespace mlctl::oci
