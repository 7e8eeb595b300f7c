#!/usr/bin/env python3
"""A stand-in for the seed's 5-agent system (kind: telegram-heavy on the MacBook).

The seed's shape: SA (strategy analysis) and AD (art direction) analyse the message at the same
time; then CE (content editor) and CD (creative director) work in sequence on what they said.
Each agent is, in order of preference:
  1. AGENT_SA_CMD / AGENT_AD_CMD / AGENT_CE_CMD / AGENT_CD_CMD: a command line (split like a
     shell would, never run through one) that gets the agent's prompt on stdin and prints its
     answer;
  2. ANTHROPIC_API_KEY set: Anthropic's Messages API (ANTHROPIC_API_URL, default
     https://api.anthropic.com/v1/messages; ANTHROPIC_MODEL);
  3. LLM_API_URL set: an OpenAI-compatible chat completions endpoint (LLM_API_KEY optional,
     LLM_MODEL);
  4. otherwise a built-in placeholder that shows the pipeline without any AI service.
Payload: the ingress's {"text": ..., "context": ...}. Prints the combined answer (Markdown).
API keys are sent only in request headers and never printed or logged. A failed call exits 75
(try again later); a message without text exits 65.
"""
import json
import os
import shlex
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import bucketq as bq

ROLES = {
    "SA": "전략 분석가(Strategy Analyst): 목적, 대상, 기회와 위험을 분석하세요.",
    "AD": "아트 디렉터(Art Director): 시각적 방향, 톤, 레퍼런스를 제안하세요.",
    "CE": "콘텐츠 에디터(Content Editor): 두 분석을 실행 가능한 콘텐츠 초안으로 정리하세요.",
    "CD": "크리에이티브 디렉터(Creative Director): 초안을 검토해 최종 결정과 다음 단계를 정하세요.",
}
TIMEOUT = float(os.environ.get("AGENT_TIMEOUT", "120"))


class AgentError(Exception):
    pass


def call_command(role, argv, prompt):
    try:
        out = subprocess.run(argv, input=prompt, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AgentError(f"{role}: cannot run {argv[0]}: {exc}") from None
    if out.returncode != 0:
        raise AgentError(f"{role}: {argv[0]} exited {out.returncode}: {out.stderr.strip()[-500:]}")
    return out.stdout.strip()


def post_json(url, body, headers):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as exc:
        # The body may say why; headers (with the key) are never printed.
        detail = exc.read(500).decode("utf-8", "replace")
        raise AgentError(f"{url} answered HTTP {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise AgentError(f"{url}: {exc}") from None


def call_anthropic(role, prompt):
    url = os.environ.get("ANTHROPIC_API_URL", "https://api.anthropic.com/v1/messages")
    body = {"model": os.environ.get("ANTHROPIC_MODEL", "claude-3-5-haiku-latest"), "max_tokens": 1024,
            "system": ROLES[role], "messages": [{"role": "user", "content": prompt}]}
    doc = post_json(url, body, {"x-api-key": os.environ["ANTHROPIC_API_KEY"], "anthropic-version": "2023-06-01"})
    try:
        return "".join(part.get("text", "") for part in doc["content"]).strip()
    except (KeyError, TypeError):
        raise AgentError(f"{role}: unexpected answer from {url}") from None


def call_openai(role, prompt):
    url = os.environ["LLM_API_URL"]
    headers = {"authorization": f"Bearer {os.environ['LLM_API_KEY']}"} if os.environ.get("LLM_API_KEY") else {}
    body = {"model": os.environ.get("LLM_MODEL", "default"),
            "messages": [{"role": "system", "content": ROLES[role]}, {"role": "user", "content": prompt}]}
    doc = post_json(url, body, headers)
    try:
        return doc["choices"][0]["message"]["content"].strip()
    except (KeyError, IndexError, TypeError, AttributeError):
        raise AgentError(f"{role}: unexpected answer from {url}") from None


def placeholder(role, prompt):
    request = " ".join(prompt.split("\n\n")[1].split())[:80]
    return f"({role} 자리: 실제 에이전트를 AGENT_{role}_CMD 또는 API로 연결하세요) — 입력 {len(prompt)}자, {request}"


def agent(role, prompt):
    command = os.environ.get(f"AGENT_{role}_CMD")
    if command:
        return call_command(role, shlex.split(command), prompt)
    if os.environ.get("ANTHROPIC_API_KEY"):
        return call_anthropic(role, prompt)
    if os.environ.get("LLM_API_URL"):
        return call_openai(role, prompt)
    return placeholder(role, prompt)


def pipeline(message):
    """SA ∥ AD, then CE, then CD; returns {role: answer}."""
    answers, errors = {}, []

    def run(role):
        try:
            answers[role] = agent(role, f"{ROLES[role]}\n\n{message}")
        except AgentError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=run, args=(role,)) for role in ("SA", "AD")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise AgentError("; ".join(errors))
    answers["CE"] = agent("CE", f"{ROLES['CE']}\n\n요청: {message}\n\nSA: {answers['SA']}\n\nAD: {answers['AD']}")
    answers["CD"] = agent("CD", f"{ROLES['CD']}\n\n요청: {message}\n\nCE 초안: {answers['CE']}")
    return answers


def main():
    payload = bq.read_payload()
    text = payload.get("text") if isinstance(payload.get("text"), str) else None
    if not text or not text.strip():
        bq.fail("the message has no text to analyse")
    context = payload.get("context")
    message = text if context is None else f"{text}\n\n(이전 맥락: {json.dumps(context, ensure_ascii=False)[:2000]})"
    try:
        answers = pipeline(message)
    except AgentError as exc:
        bq.fail(str(exc), bq.EX_TEMPFAIL)
    sections = [f"## {role}\n{answers[role]}" for role in ("SA", "AD", "CE", "CD")]
    print(f"# 5-에이전트 분석\n\n" + "\n\n".join(sections))


if __name__ == "__main__":
    sys.exit(main())
