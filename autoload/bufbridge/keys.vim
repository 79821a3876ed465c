" autoload/bufbridge/keys.vim - the default accept keys of suggestions
"
" The functions in this file are for internal use only; see :help
" bufbridge-suggest.

if exists('g:autoloaded_bufbridge_keys')
  finish
endif
let g:autoloaded_bufbridge_keys = 1

" Map {key} in Insert mode to accept the suggestion ({how}: 'all', 'line' or
" 'word') while one shows, unless the user mapped that action already. What
" the key did before (the key itself, or the user's own global mapping of it)
" is kept as <Plug>(bufbridge-before-{name}), which the key does when no
" suggestion shows.
function! bufbridge#keys#accept(key, name, how) abort
  if hasmapto('<Plug>(bufbridge-accept' . (a:how ==# 'all' ? '' : '-' . a:how) . ')', 'i')
    return
  endif
  let before = '<Plug>(bufbridge-before-' . a:name . ')'
  let old = maparg(a:key, 'i', 0, 1)
  if empty(old) || old.buffer
    execute 'inoremap' before a:key
  else
    let old.lhs = before
    let old.lhsraw = eval('"\' . before . '"')
    silent! unlet old.lhsrawalt
    call mapset('i', 0, old)
  endif
  execute 'imap <silent><expr>' a:key 'bufbridge#suggest#key(' . string(a:how) . ', ' . string(a:name) . ')'
endfunction

" vim:set et sw=2:
