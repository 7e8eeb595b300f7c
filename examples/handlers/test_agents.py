"""agents.py against a local fake LLM server: the pipeline's order, both API shapes, and a key
that never reaches the output. Run: python3 -m unittest discover -s examples/handlers"""
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "sk-test-SECRET-123"


class FakeLLM(http.server.BaseHTTPRequestHandler):
    calls = []
    fail = False

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        FakeLLM.calls.append({"path": self.path, "body": body, "headers": {k.lower(): v for k, v in self.headers.items()}, "at": time.monotonic()})
        if FakeLLM.fail:
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b'{"error": "overloaded"}')
            return
        system = body.get("system") or body["messages"][0]["content"]
        role = system.split("(")[1].split(")")[0]  # e.g. Strategy Analyst
        time.sleep(0.3)  # long enough that SA and AD overlap only if they run in parallel
        answer = f"[{role} answer]"
        if "system" in body:
            doc = {"content": [{"type": "text", "text": answer}]}
        else:
            doc = {"choices": [{"message": {"role": "assistant", "content": answer}}]}
        data = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class AgentsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeLLM)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.url = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def setUp(self):
        FakeLLM.calls = []
        FakeLLM.fail = False

    def run_agents(self, env, payload):
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_", "ANTHROPIC_", "LLM_"))}
        return subprocess.run([sys.executable, os.path.join(HERE, "agents.py")], input=json.dumps(payload),
                              capture_output=True, text=True, env={**clean, **env}, timeout=60)

    def test_openai_compatible_sa_and_ad_in_parallel_then_ce_then_cd(self):
        out = self.run_agents({"LLM_API_URL": f"{self.url}/v1/chat/completions", "LLM_API_KEY": KEY},
                              {"text": "브랜드 아이덴티티 분석해줘"})
        self.assertEqual(out.returncode, 0, out.stderr)
        roles = [c["body"]["messages"][0]["content"].split("(")[1].split(")")[0] for c in FakeLLM.calls]
        self.assertEqual(sorted(roles[:2]), ["Art Director", "Strategy Analyst"])
        self.assertEqual(roles[2:], ["Content Editor", "Creative Director"])
        sa_ad = FakeLLM.calls[:2]
        self.assertLess(abs(sa_ad[0]["at"] - sa_ad[1]["at"]), 0.25, "SA and AD start together")
        ce_prompt = FakeLLM.calls[2]["body"]["messages"][1]["content"]
        self.assertIn("[Strategy Analyst answer]", ce_prompt)
        self.assertIn("[Art Director answer]", ce_prompt)
        self.assertIn("[Content Editor answer]", FakeLLM.calls[3]["body"]["messages"][1]["content"])
        self.assertEqual(FakeLLM.calls[0]["headers"]["authorization"], f"Bearer {KEY}")
        for section in ("## SA", "## AD", "## CE", "## CD", "[Creative Director answer]"):
            self.assertIn(section, out.stdout)
        self.assertNotIn(KEY, out.stdout + out.stderr)

    def test_anthropic_messages_api(self):
        out = self.run_agents({"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_API_URL": f"{self.url}/v1/messages"},
                              {"text": "전략", "context": {"task": "0193", "result": "아이디어 1"}})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(len(FakeLLM.calls), 4)
        self.assertEqual(FakeLLM.calls[0]["headers"]["x-api-key"], KEY)
        self.assertIn("아이디어 1", FakeLLM.calls[0]["body"]["messages"][0]["content"])
        self.assertIn("[Creative Director answer]", out.stdout)

    def test_a_failing_api_is_retried_later_and_the_key_stays_secret(self):
        FakeLLM.fail = True
        out = self.run_agents({"LLM_API_URL": f"{self.url}/v1/chat/completions", "LLM_API_KEY": KEY}, {"text": "x"})
        self.assertEqual(out.returncode, 75)
        self.assertIn("HTTP 500", out.stderr)
        self.assertNotIn(KEY, out.stdout + out.stderr)

    def test_commands_and_the_placeholder(self):
        out = self.run_agents({"AGENT_SA_CMD": "tr a-z A-Z"}, {"text": "hello"})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("HELLO", out.stdout)
        self.assertIn("CD 자리", out.stdout)
        self.assertEqual(self.run_agents({}, {"text": " "}).returncode, 65)


if __name__ == "__main__":
    unittest.main()
