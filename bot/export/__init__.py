"""`supportbot export`: what the bot's traffic teaches, as files for other tools.

finetune.py   the approved answers as OpenAI chat fine-tuning files, and the summary
examples.py   one approved answer as one example: source, final answer, OpenAI's shape
personal.py   personal data replaced with placeholders, consistently within an example
detectors.py  the bounded patterns that find personal data in free text
"""
