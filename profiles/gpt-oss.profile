!note GPT-OSS sampling; harmony channels shown as <think>, kept out of the next request.
!gpt-oss
!:temperature 1.0
!:top_p 1.0
!exclude think
