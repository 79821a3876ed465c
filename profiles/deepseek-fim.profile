!note DeepSeek fill-in-the-middle (beta completions with suffix); needs $DEEPSEEK_API_KEY.
!api https://api.deepseek.com/beta/
!wire deepseek-fim
!>authorization Bearer $DEEPSEEK_API_KEY
!:model deepseek-chat
!:max_tokens 256
