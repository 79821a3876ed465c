" ftdetect/bufbridge.vim - chat buffers: *.chat and *.bufbridge files, and
" plain text whose first lines hold a role or request directive.
" See :help bufbridge-filetype.

autocmd BufNewFile,BufRead *.chat,*.bufbridge setfiletype bufbridge
autocmd BufNewFile,BufRead * if &filetype ==# '' || &filetype ==# 'text'
      \ | if match(getline(1, 30), '^!\%(user\|assistant\|profile\|api\|completion\|infill\)\%(\s\|$\)') >= 0
      \ |   set filetype=bufbridge
      \ | endif
      \ | endif
