!note A local llama.cpp server (llama-server, or `bufbridge serve`) on its default port.
!api http://localhost:8080/
!:cache_prompt true
!:stop ["<|im_end|>"]
