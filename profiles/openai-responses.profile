!note OpenAI Responses API, with reasoning summaries; needs $OPENAI_API_KEY.
!api https://api.openai.com/v1/
!wire openai-responses
!>authorization Bearer $OPENAI_API_KEY
!:model gpt-5-nano
!:max_tokens 10000
!:reasoning {"summary": "auto"}
!exclude think
