"""Uses the official OpenAI Python SDK against a Split edge node, unchanged but for the base
URL: the proof that clients written for OpenAI's completions API work with Split.

    pip install openai
    python3 openai_example.py [base-url] [prompt]

The base URL defaults to http://127.0.0.1:8080/v1; the API key is not checked.
"""

import sys

from openai import OpenAI


def main() -> int:
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080/v1"
    prompt = sys.argv[2] if len(sys.argv) > 2 else "def fibonacci(n):"
    client = OpenAI(base_url=base, api_key="not-checked", max_retries=0)

    model = client.models.list().data[0].id
    print("model:", model)

    whole = client.completions.create(model=model, prompt=prompt, max_tokens=48, temperature=0, stop=["\n\n"])
    print("whole:", repr(whole.choices[0].text), whole.choices[0].finish_reason, whole.usage.total_tokens)

    print("streamed: ", end="", flush=True)
    for chunk in client.completions.create(model=model, prompt=prompt, max_tokens=48, temperature=0, stream=True):
        print(chunk.choices[0].text, end="", flush=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
