#include <mlctl/build/dockerfile.hpp>

#include <gtest/gtest.h>

namespace mlctl::build {
namespace {

ContextEntry file(std::string path) { return {std::move(path), {}, ContextEntry::Kind::file, 1, false, ""}; }

TEST(DockerfileTest, ListsEveryLayerInBuildOrder) {
  core::ImageConfig image;
  image.base = "python:3.11-slim";
  image.system_packages = {"libgomp1", "curl"};
  image.python_requirements = {"requirements.txt", 6, 3};
  image.env = {{"OMP_NUM_THREADS", "1"}, {"GREETING", "say \"hi\""}};
  image.entrypoint = {"python3", "-m", "src.serve"};
  BuildContext context{{file("requirements.txt"), file("src/a b.py"), file("src/serve.py"), file("train.py")},
                       {file("weights/model.bin")}};
  EXPECT_EQ(render_dockerfile(image, context, {{"org.opencontainers.image.version", "1.4.0"}}),
            "# The Dockerfile equivalent to `mlctl build`; mlctl itself needs neither it nor a daemon.\n"
            "FROM python:3.11-slim\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 curl && "
            "rm -rf /var/lib/apt/lists/*\n"
            "WORKDIR /app\n"
            "COPY [\"requirements.txt\", \"/tmp/mlctl/requirements.txt\"]\n"
            "RUN python3 -m pip install --no-cache-dir --no-compile --target /app/.deps "
            "-r /tmp/mlctl/requirements.txt && rm -rf /tmp/mlctl\n"
            "ENV PYTHONPATH=/app/.deps\n"
            "COPY [\"weights/model.bin\", \"/app/weights/\"]\n"
            "COPY [\"requirements.txt\", \"train.py\", \"/app/\"]\n"
            "COPY [\"src/a b.py\", \"src/serve.py\", \"/app/src/\"]\n"
            "ENV OMP_NUM_THREADS=\"1\" GREETING=\"say \\\"hi\\\"\"\n"
            "LABEL org.opencontainers.image.version=\"1.4.0\"\n"
            "ENTRYPOINT [\"python3\",\"-m\",\"src.serve\"]\n");
}

TEST(DockerfileTest, MinimalImageHasOnlyBaseWorkdirAndCode) {
  core::ImageConfig image;
  image.base = "scratch";
  BuildContext context{{file("model.json")}, {}};
  EXPECT_EQ(render_dockerfile(image, context, {}),
            "# The Dockerfile equivalent to `mlctl build`; mlctl itself needs neither it nor a daemon.\n"
            "FROM scratch\nWORKDIR /app\nCOPY [\"model.json\", \"/app/\"]\n");
}

TEST(DockerfileTest, SystemPackagesStep) {
  EXPECT_EQ(system_packages_dockerfile("debian:bookworm-slim", {"libgomp1"}),
            "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && "
            "rm -rf /var/lib/apt/lists/*\n");
}

}  // namespace
}  // namespace mlctl::build
