#!/usr/bin/python3
"""An S3 front that checks every request's AWS Signature Version 4 with botocore (the AWS SDK's
own signer, an implementation independent of libcurl's) and passes the good ones on to an
S3-compatible server (s3rver, which checks the access key id but not the signature).

usage: sigv4_proxy.py PORT UPSTREAM ACCESS_KEY SECRET_KEY REGION
Logs "verified METHOD PATH" or "SignatureDoesNotMatch METHOD PATH" per request on stdout;
a request with a bad or missing signature gets 403 SignatureDoesNotMatch and is not passed on.
"""
import http.client
import http.server
import sys
import urllib.parse

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

PORT, UPSTREAM, ACCESS_KEY, SECRET_KEY, REGION = sys.argv[1:6]
DENIED = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code>'
          b'<Message>The request signature we calculated does not match the signature you provided.'
          b'</Message></Error>')


def parse_authorization(value):
    """{'Credential': ..., 'SignedHeaders': ..., 'Signature': ...} of an AWS4-HMAC-SHA256 header."""
    algorithm, _, rest = value.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        return None
    fields = dict(part.strip().split("=", 1) for part in rest.split(","))
    return fields if {"Credential", "SignedHeaders", "Signature"} <= fields.keys() else None


def expected_signature(method, path, headers, signed_names, token):
    auth = S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, token), "s3", REGION)
    request = AWSRequest(method=method, url=f"http://{headers['host']}{path}",
                         headers={name: headers[name] for name in signed_names})
    request.context["timestamp"] = headers["x-amz-date"]
    string_to_sign = auth.string_to_sign(request, auth.canonical_request(request))
    return auth.signature(string_to_sign, request)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def verified(self):
        headers = {name.lower(): value for name, value in self.headers.items()}
        fields = parse_authorization(headers.get("authorization", ""))
        if not fields or not fields["Credential"].startswith(ACCESS_KEY + "/"):
            return False
        signed = fields["SignedHeaders"].split(";")
        if "host" not in signed or any(name not in headers for name in signed):
            return False
        token = headers.get("x-amz-security-token")
        return expected_signature(self.command, self.path, headers, signed, token) == fields["Signature"]

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urllib.parse.urlsplit(self.path).path
        if not self.verified():
            print(f"SignatureDoesNotMatch {self.command} {path}", flush=True)
            self.send_response(403)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(DENIED)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(DENIED)
            return
        print(f"verified {self.command} {path}", flush=True)
        upstream = http.client.HTTPConnection(urllib.parse.urlsplit(UPSTREAM).netloc, timeout=30)
        forwarded = {name: value for name, value in self.headers.items() if name.lower() != "connection"}
        upstream.request(self.command, self.path, body=body, headers=forwarded)
        response = upstream.getresponse()
        data = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            # A HEAD's Content-Length is the object's size: passed on as it is.
            passed = name.lower() not in ("connection", "transfer-encoding", "content-length")
            if passed or (self.command == "HEAD" and name.lower() == "content-length"):
                self.send_header(name, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        upstream.close()

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = handle_any

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
