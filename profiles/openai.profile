!note OpenAI; needs $OPENAI_API_KEY.
!api https://api.openai.com/v1
!>authorization Bearer $OPENAI_API_KEY
!:model gpt-4.1-mini
!:max_tokens
!:max_completion_tokens 10000
