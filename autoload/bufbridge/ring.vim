" autoload/bufbridge/ring.vim - context for suggestions: a ring of chunks of recent text
"
" The functions in this file are for internal use only; see :help
" bufbridge-suggest-context.
"
" Instead of every open buffer, a suggestion takes along chunks of the text
" the user worked with lately: what was yanked, the lines around the cursor
" where an Insert ended (edited), and where the cursor was when a buffer was
" left or written (visited). A chunk is taken when that happens, not at each
" request, and new chunks go at the end: between two such events every
" request sends the very same context, so the server reuses its prompt cache
" (and a new chunk leaves the ones before it untouched).
"
" Never in the ring: a buffer that is not a file of the project (under the
" current folder, links resolved), a file whose name looks like it holds
" secrets (the names of bridge/files.py's looks_secret; the host checks
" again), a buffer where suggestions are off (prose and chats, unless asked),
" and text already near the cursor (the request has it anyway).
"
" Budgets: at most s:CHUNKS chunks of at most s:LINES lines (and s:CHUNK_BYTES
" bytes) each, s:TOTAL_BYTES in all; the oldest go first. A chunk that covers
" much the same lines of a file as an older one replaces it.

if exists('g:autoloaded_bufbridge_ring')
  finish
endif
let g:autoloaded_bufbridge_ring = 1

let s:CHUNKS = 16
let s:LINES = 64
let s:CHUNK_BYTES = 4096
let s:TOTAL_BYTES = 16384
let s:NEAR = 32          " lines around the cursor whose chunks a request leaves out

" Names that look like secrets: the same as bridge/files.py's SECRET_NAMES
" and SECRET_FOLDERS.
let s:SECRET_NAME = '\c^\%(\.env.*\|.*\.\%(pem\|key\|p12\|pfx\|jks\|keystore\|ppk\|kdbx\)'
      \ . '\|id_[a-z0-9_-]\+\%(\.pub\)\=\|[._]netrc\|\.npmrc\|\.pypirc\|\.pgpass\|\.git-credentials'
      \ . '\|\.htpasswd\|\.dockercfg\|credentials.*\|secrets\=\.\%(json\|ya\=ml\|toml\|ini\|env\|txt\|py\)\)$'
let s:SECRET_FOLDERS = ['.ssh', '.gnupg', '.aws', '.docker', '.kube']

" The ring: {buf, filename, first, last, text}, oldest first.
let s:ring = []

" The chunks to send with a request at line {lnum} of buffer {buf}, as
" [{filename, text}], in the ring's order.
function! bufbridge#ring#items(buf, lnum) abort
  if get(g:, 'bufbridge_suggest_context', 'ring') isnot# 'ring'
    return []
  endif
  let items = []
  for chunk in s:ring
    if chunk.buf == a:buf && chunk.first <= a:lnum + s:NEAR && chunk.last >= a:lnum - s:NEAR
      continue
    endif
    call add(items, {'filename': chunk.filename, 'text': chunk.text})
  endfor
  return items
endfunction

" For tests and the bench: the ring as it is.
function! bufbridge#ring#chunks() abort
  return deepcopy(s:ring)
endfunction

" TextYankPost: the yanked lines (a yank of one line: the lines around it).
function! bufbridge#ring#yanked() abort
  if v:event.operator !=# 'y' || !s:wanted(bufnr(''))
    return
  endif
  let [first, last] = [line("'["), line("']")]
  if last - first < 2
    let first -= s:LINES / 4
    let last += s:LINES / 4
  endif
  call s:pick(bufnr(''), first, last)
endfunction

" InsertLeave, BufLeave, BufWritePost: the lines around the cursor.
function! bufbridge#ring#around_cursor() abort
  if s:wanted(bufnr(''))
    let lnum = line('.')
    call s:pick(bufnr(''), lnum - s:LINES / 2, lnum + s:LINES / 2 - 1)
  endif
endfunction

function! s:pick(buf, first, last) abort
  let first = max([1, a:first])
  let last = min([line('$'), a:last, first + s:LINES - 1])
  " Fewer than 3 lines that are not blank: too little to help.
  let lines = getline(first, last)
  if len(filter(copy(lines), 'v:val =~# ''\S''')) < 3
    return
  endif
  let text = join(lines, "\n") . "\n"
  if len(text) > s:CHUNK_BYTES
    let text = matchstr(strpart(text, 0, s:CHUNK_BYTES), '^.*\n')
    let last = first + count(text, "\n") - 1
  endif
  let filename = fnamemodify(bufname(a:buf), ':.')
  " Much the same lines again: the old chunk goes, the new one goes at the end.
  call filter(s:ring, {_, c -> c.filename !=# filename
        \ || min([c.last, last]) - max([c.first, first]) + 1 < (min([c.last - c.first, last - first]) + 1) / 2})
  call add(s:ring, {'buf': a:buf, 'filename': filename, 'first': first, 'last': last, 'text': text})
  let total = 0
  for chunk in s:ring
    let total += len(chunk.text)
  endfor
  while len(s:ring) > s:CHUNKS || total > s:TOTAL_BYTES
    let total -= len(remove(s:ring, 0).text)
  endwhile
endfunction

" A file of the project, named like no secret, in which suggestions are on.
function! s:wanted(buf) abort
  let name = bufname(a:buf)
  if name ==# '' || getbufvar(a:buf, '&buftype') !=# '' || bufbridge#suggest#trigger(a:buf) ==# 'off'
    return 0
  endif
  let path = s:real(name)
  let root = s:real(getcwd())
  let root .= root =~# '/$' ? '' : '/'
  if stridx(path, root) != 0
    return 0
  endif
  let parts = split(strpart(path, len(root)), '/')
  return !empty(parts) && parts[-1] !~# s:SECRET_NAME
        \ && empty(filter(parts[:-2], 'index(s:SECRET_FOLDERS, tolower(v:val)) >= 0'))
endfunction

function! s:real(path) abort
  return tr(resolve(fnamemodify(a:path, ':p')), '\', '/')
endfunction

" vim:set et sw=2 foldmethod=marker:
