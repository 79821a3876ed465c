!note DeepSeek-R1 sampling, with room for its reasoning; FIM through the DeepSeek template.
!:temperature 0.6
!:max_tokens 10000
!profile fim:deepseek
