!note OpenAI (Chat Completions); needs $OPENAI_API_KEY.
!api https://api.openai.com/v1
!wire openai
!>authorization Bearer $OPENAI_API_KEY
!:model gpt-5-nano
!:max_tokens
!:max_completion_tokens 10000
