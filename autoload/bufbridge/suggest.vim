" autoload/bufbridge/suggest.vim - suggestions as you type: ghost text you accept with Tab
"
" The functions in this file are for internal use only, except the public
" bufbridge#suggestion() and bufbridge#accept(); see :help bufbridge-suggest.
"
" In Insert mode, a pause in typing (g:bufbridge_suggest_delay) asks the host
" (autoload/bufbridge/host.vim) for a cursor infill at the cursor, as
" :BufBridgeInfill does, and shows the reply as it streams in, as virtual
" text: a Vim text property with 'text' (the first line inline at the
" cursor, the others 'below' it), a Neovim extmark (virt_text inline,
" virt_lines below). Nothing is written into the buffer until it is accepted.
"
" There is at most one suggestion, s:cur, for the window in Insert mode, and
" so at most one request in flight: any keystroke that does not type the
" suggestion's next characters cancels it (the host closes its connection,
" the server stops) and hides what was shown.
"
" s:cur, {} when there is none:
"   buf, lnum   the buffer and the line the suggestion continues
"   pre, post   that line's text before and after the suggestion's place
"   text        the suggestion from its place, as received so far
"   typed       how many bytes of text the user has typed (or accepted) since
"   full, key   everything received from the ask, and its cache key
"   request     the host request while it streams, else {}
"   done        the request ended
"   started, first, ended   reltime() of the ask; seconds to the first text
"               and to the end

if exists('g:autoloaded_bufbridge_suggest')
  finish
endif
let g:autoloaded_bufbridge_suggest = 1

let s:DELAY = 150          " ms of pause before a suggestion is asked for (g:bufbridge_suggest_delay)
let s:CACHE_SIZE = 250     " suggestions kept, least recently used first out
let s:KEY_BEFORE = 64      " lines above the cursor that make a cache key
let s:KEY_AFTER = 16       " lines below it
let s:QUIET_SECONDS = 60   " one message per kind of failure per this time
let s:MODES = ['auto', 'manual', 'off']

let s:cur = {}
let s:last = {}            " the suggestion before s:cur, for bufbridge#suggest#last()
let s:cache = {}           " key -> the suggestion text
let s:lru = []             " keys, least recently used first
let s:no_host = 0          " the host could not start: no suggestions until :BufBridgeRestart
let s:said = {}            " message -> reltime() it was last given
let s:timer = -1

" Public {{{1

" The suggestion shown now, '' when none.
function! bufbridge#suggest#text() abort
  if empty(s:cur) || s:cur.buf != bufnr('') || mode() !~# '^i'
    return ''
  endif
  return strpart(s:cur.text, s:cur.typed)
endfunction

" The keys that accept all, the first line or the next word of the
" suggestion, for an <expr> mapping (or feedkeys()); '' when none shows. Each
" acceptance is an undo step of its own (CTRL-G u around it).
function! bufbridge#suggest#accept_keys(how) abort
  if index(['all', 'line', 'word'], a:how) < 0
    throw 'bufbridge: bufbridge#accept() takes ''all'', ''line'' or ''word'', not ' . string(a:how)
  endif
  if bufbridge#suggest#text() ==# ''
    return ''
  endif
  return "\<C-G>u\<Cmd>call bufbridge#suggest#insert('" . a:how . "')\<CR>\<C-G>u"
endfunction

" The <expr> of a default key: accept when a suggestion shows, else the
" key's own <Plug>(bufbridge-before-...) map (what the key did before).
function! bufbridge#suggest#key(how, before) abort
  let keys = bufbridge#suggest#accept_keys(a:how)
  return keys !=# '' ? keys : "\<Plug>(bufbridge-before-" . a:before . ')'
endfunction

" For bufbridge#status(): 'bufbridge: suggesting' while a suggestion is
" asked for, 'bufbridge: suggestion' while one shows; with
" g:bufbridge_suggest_info, the times of the last one after it.
function! bufbridge#suggest#status(buf) abort
  if empty(s:cur) || s:cur.buf != a:buf
    return ''
  endif
  let what = !s:cur.done ? 'bufbridge: suggesting' : bufbridge#suggest#text() !=# '' ? 'bufbridge: suggestion' : ''
  return what ==# '' || !get(g:, 'bufbridge_suggest_info', 0) ? what : what . ' ' . s:info(s:cur)
endfunction

" The timing of the current (or last) suggestion, for g:bufbridge_suggest_info
" and bench/suggest_latency.py: seconds from the ask to the first text, to the
" first text drawn, to the end and to the whole suggestion drawn (-1: not
" yet), the bytes of context sent, whether it came from the cache.
function! bufbridge#suggest#last() abort
  let cur = empty(s:cur) ? s:last : s:cur
  return empty(cur) ? {} : {'first': cur.first, 'first_drawn': cur.first_drawn, 'ended': cur.ended,
        \ 'drawn': cur.drawn, 'done': cur.done, 'context': cur.context, 'cached': cur.cached}
endfunction

" :BufBridgeRestart: try the host again.
function! bufbridge#suggest#reset() abort
  call bufbridge#suggest#dismiss()
  let s:no_host = 0
  let s:said = {}
endfunction

" Events {{{1

" TextChangedI, CursorMovedI, InsertEnter: the user typed or moved.
function! bufbridge#suggest#changed() abort
  if s:through()
    return
  endif
  call bufbridge#suggest#dismiss()
  " Replace mode: a suggestion would be typed over.
  if mode() =~# '^R'
    return
  endif
  if s:trigger(bufnr('')) ==# 'auto' && !pumvisible() && !exists('b:bufbridge_job')
    if s:from_cache()
      return
    endif
    let s:timer = timer_start(s:delay(), function('s:pause', [bufnr(''), b:changedtick, getcurpos()]))
  endif
endfunction

" Esc, leaving Insert mode or the window, the completion menu: hide it, stop
" its request.
function! bufbridge#suggest#dismiss() abort
  call timer_stop(s:timer)
  let s:timer = -1
  if empty(s:cur)
    return
  endif
  let cur = s:cur
  let s:cur = {}
  let s:last = cur
  if !empty(cur.request)
    call bufbridge#host#cancel(cur.request)
  endif
  call s:clear(cur.buf)
endfunction

" <Plug>(bufbridge-suggest): ask now, whatever the trigger (unless 'off').
function! bufbridge#suggest#now() abort
  call bufbridge#suggest#dismiss()
  if s:no_host
    call s:say('suggestions need the bufbridge host, which could not start; :BufBridgeRestart tries again')
  elseif s:trigger(bufnr('')) ==# 'off'
    call s:say('suggestions are off in this buffer (:help g:bufbridge_suggest)')
  elseif !s:from_cache()
    call s:ask()
  endif
  return ''
endfunction

function! s:pause(buf, tick, pos, timer) abort
  let s:timer = -1
  if bufnr('') == a:buf && b:changedtick == a:tick && getcurpos() == a:pos && mode() =~# '^i'
        \ && !pumvisible() && empty(s:cur)
    call s:ask()
  endif
endfunction

" Whether the cursor is still where the suggestion goes, with only its next
" characters typed (or some of them deleted again) since: then the rest stays.
function! s:through() abort
  let cur = s:cur
  if empty(cur) || cur.buf != bufnr('') || line('.') != cur.lnum
    return 0
  endif
  let line = getline('.')
  let typed = strpart(line, len(cur.pre), len(line) - len(cur.pre) - len(cur.post))
  if strpart(line, 0, len(cur.pre)) !=# cur.pre || line[len(line) - len(cur.post):] !=# cur.post
        \ || len(line) < len(cur.pre) + len(cur.post) || col('.') - 1 != len(cur.pre) + len(typed)
        \ || strpart(cur.text, 0, len(typed)) !=# typed || len(typed) == len(cur.text) && cur.done
    return 0
  endif
  if cur.typed != len(typed)
    let cur.typed = len(typed)
    call s:render(cur)
  endif
  return 1
endfunction

" Asking {{{1

" The trigger of buffer {buf}: b:bufbridge_suggest, else its filetype's in
" g:bufbridge_suggest_filetypes, else g:bufbridge_suggest in a source file
" and 'off' elsewhere (prose, chats, no filetype).
function! s:trigger(buf) abort
  let vars = getbufvar(a:buf, '')
  if type(vars) != v:t_dict || s:no_host || getbufvar(a:buf, '&buftype') !=# ''
    return 'off'
  endif
  if has_key(vars, 'bufbridge_suggest')
    return s:mode('b:bufbridge_suggest', vars.bufbridge_suggest)
  endif
  let filetype = getbufvar(a:buf, '&filetype')
  let filetypes = get(g:, 'bufbridge_suggest_filetypes', {})
  if type(filetypes) == v:t_dict && has_key(filetypes, filetype)
    return s:mode('g:bufbridge_suggest_filetypes[' . string(filetype) . ']', filetypes[filetype])
  endif
  return bufbridge#is_source(filetype) ? s:mode('g:bufbridge_suggest', get(g:, 'bufbridge_suggest', 'auto')) : 'off'
endfunction

function! bufbridge#suggest#trigger(buf) abort
  return s:trigger(a:buf)
endfunction

function! s:mode(name, value) abort
  if type(a:value) == v:t_string && index(s:MODES, a:value) >= 0
    return a:value
  endif
  call s:complain(a:name . ' must be ''auto'', ''manual'' or ''off'', not ' . string(a:value))
  return 'off'
endfunction

function! s:delay() abort
  let delay = get(g:, 'bufbridge_suggest_delay', s:DELAY)
  return type(delay) == v:t_number && delay >= 0 ? delay : s:DELAY
endfunction

" A new suggestion for the cursor, from the host.
function! s:ask() abort
  let started = reltime()
  let [lnum, col] = [line('.'), col('.')]
  try
    let [cmd, args] = bufbridge#cursor_command(lnum, col)
  catch /^bufbridge:/
    return s:complain(substitute(v:exception, '^bufbridge: ', '', ''))
  endtry
  let cur = s:new(s:key())
  let cur.started = started
  if get(g:, 'bufbridge_suggest_info', 0)
    let args += ['--stats']  " the server's own figures, for the info
  endif
  let params = {'args': args, 'text': join(getline(1, '$'), "\n") . "\n", 'cwd': getcwd()}
  let extra = bufbridge#ring#items(cur.buf, lnum)
  if !empty(extra)
    let params.extra = extra
  endif
  let cur.context = len(json_encode(extra))
  let s:cur = cur
  try
    let cur.request = bufbridge#host#request(cmd, params, {
          \ 'on_text': function('s:on_text', [cur]),
          \ 'on_stderr': function('s:on_stderr', [cur]),
          \ 'on_done': function('s:on_done', [cur])})
  catch /^bufbridge:/
    let s:cur = {}
    return s:complain(substitute(v:exception, '^bufbridge: ', '', ''))
  endtry
  redrawstatus
endfunction

" A suggestion for the cursor's place; its text comes later.
function! s:new(key) abort
  let line = getline('.')
  return {'buf': bufnr(''), 'lnum': line('.'), 'pre': strpart(line, 0, col('.') - 1),
        \ 'post': strpart(line, col('.') - 1), 'text': '', 'typed': 0, 'full': '', 'key': a:key,
        \ 'request': {}, 'done': 0, 'started': reltime(), 'first': -1.0, 'ended': -1.0,
        \ 'first_drawn': -1.0, 'drawn': -1.0,
        \ 'stderr': '', 'context': 0, 'cached': 0}
endfunction

function! s:on_text(cur, text) abort
  if a:cur.first < 0
    let a:cur.first = reltimefloat(reltime(a:cur.started))
  endif
  let a:cur.full .= a:text
  let a:cur.text .= a:text
  if a:cur is s:cur
    call s:render(a:cur)
    if a:cur.first_drawn < 0
      let a:cur.first_drawn = reltimefloat(reltime(a:cur.started))
    endif
  endif
endfunction

function! s:on_stderr(cur, text) abort
  let a:cur.stderr .= a:text
endfunction

" why: '' (finished), 'cancelled', 'unavailable' (no host can run here), or
" why the host stopped.
function! s:on_done(cur, status, why) abort
  let a:cur.request = {}
  let a:cur.done = 1
  let a:cur.ended = reltimefloat(reltime(a:cur.started))
  if a:why ==# 'cancelled'
    return
  elseif a:why ==# 'unavailable'
    let s:no_host = 1
    call s:complain('suggestions need the bufbridge host, which could not start; :BufBridgeRestart tries again')
  elseif a:status == 0 && a:why ==# ''
    call s:remember(a:cur.key, a:cur.full)
  else
    let errors = filter(split(a:cur.stderr, "\n"), 'v:val =~# ''^bufbridge: error:''')
    call s:complain(!empty(errors) ? substitute(errors[0], '^bufbridge: \%(error: \)\=', '', '')
          \ : a:why !=# '' ? a:why : 'the suggestion failed (exit status ' . a:status . ')')
  endif
  if a:cur is s:cur
    call s:render(a:cur)
    let a:cur.drawn = reltimefloat(reltime(a:cur.started))
    redrawstatus
  endif
endfunction

" The cache {{{1

" What identifies the cursor's context: the lines around it, split at it.
function! s:key() abort
  let lnum = line('.')
  let line = getline('.')
  return sha256(join([&filetype, bufname(''), join(getline(max([1, lnum - s:KEY_BEFORE]), lnum - 1), "\n"),
        \ strpart(line, 0, col('.') - 1), strpart(line, col('.') - 1),
        \ join(getline(lnum + 1, lnum + s:KEY_AFTER), "\n")], "\x01"))
endfunction

function! s:remember(key, text) abort
  if has_key(s:cache, a:key)
    call filter(s:lru, 'v:val !=# a:key')
  endif
  let s:cache[a:key] = a:text
  call add(s:lru, a:key)
  while len(s:lru) > s:CACHE_SIZE
    call remove(s:cache, remove(s:lru, 0))
  endwhile
endfunction

" Show the suggestion remembered for this very context, if any.
function! s:from_cache() abort
  let key = s:key()
  if !has_key(s:cache, key) || s:no_host
    return 0
  endif
  call filter(s:lru, 'v:val !=# key')
  call add(s:lru, key)
  let cur = s:new(key)
  let cur.text = s:cache[key]
  let cur.full = cur.text
  let cur.done = 1
  let cur.cached = 1
  let [cur.first, cur.ended, cur.first_drawn, cur.drawn] = [0.0, 0.0, 0.0, 0.0]
  let s:cur = cur
  call s:render(cur)
  return 1
endfunction

" Accepting {{{1

" Insert all, the first line or the next word of the suggestion at the
" cursor; the rest stays shown after it.
function! bufbridge#suggest#insert(how) abort
  let shown = bufbridge#suggest#text()
  let take = a:how ==# 'all' ? shown
        \ : a:how ==# 'line' ? matchstr(shown, '^\n\=[^\n]*\n\=')
        \ : matchstr(shown, '^\_s*\%(\k\+\|\%(\k\@!\S\)\+\)')
  if take ==# ''
    return
  endif
  let cur = s:cur
  let [lnum, col] = [line('.'), col('.')]
  let lines = split(take, "\n", 1)
  if has('nvim')
    call nvim_buf_set_text(0, lnum - 1, col - 1, lnum - 1, col - 1, lines)
  else
    let line = getline(lnum)
    let new = [strpart(line, 0, col - 1) . lines[0]] + lines[1:]
    let new[-1] .= strpart(line, col - 1)
    call setline(lnum, new[0])
    if len(new) > 1
      call append(lnum, new[1:])
    endif
  endif
  let last = lnum + len(lines) - 1
  let end = len(lines) == 1 ? col + len(lines[0]) : len(lines[-1]) + 1
  call cursor(last, end)
  " The rest is now a suggestion for the new place.
  let line = getline(last)
  let cur.text = strpart(cur.text, cur.typed + len(take))
  let cur.typed = 0
  let cur.lnum = last
  let cur.pre = strpart(line, 0, end - 1)
  let cur.post = strpart(line, end - 1)
  call s:render(cur)
endfunction

" Showing {{{1

function! s:render(cur) abort
  call s:clear(a:cur.buf)
  let shown = strpart(a:cur.text, a:cur.typed)
  " With g:bufbridge_suggest_info, an empty suggestion still shows its info.
  let info = get(g:, 'bufbridge_suggest_info', 0) && a:cur.done ? ' ' . s:info(a:cur) : ''
  if shown ==# '' && info ==# '' || !bufloaded(a:cur.buf)
    return
  endif
  let lines = map(split(shown, "\n", 1), {_, line -> s:visible(line)})
  let lines = empty(lines) ? [''] : lines
  let col = len(a:cur.pre) + a:cur.typed + 1
  if has('nvim')
    let opts = {'virt_text': [[lines[0], 'BufBridgeSuggestion']], 'virt_text_pos': 'inline'}
    if len(lines) > 1
      let opts.virt_lines = map(lines[1:], {_, line -> [[line, 'BufBridgeSuggestion']]})
    endif
    if info !=# ''
      call add(len(lines) > 1 ? opts.virt_lines[-1] : opts.virt_text, [info, 'BufBridgeSuggestionInfo'])
    endif
    call nvim_buf_set_extmark(a:cur.buf, s:namespace(), a:cur.lnum - 1, col - 1, opts)
    return
  endif
  call s:prop_types()
  if len(lines) == 1
    let lines[0] .= info
  elseif info !=# ''
    let lines[-1] .= info
  endif
  if lines[0] !=# ''
    call prop_add(a:cur.lnum, col, {'type': 'bufbridge_suggestion', 'text': lines[0], 'bufnr': a:cur.buf})
  endif
  for line in lines[1:]
    call prop_add(a:cur.lnum, 0, {'type': 'bufbridge_suggestion', 'text': line ==# '' ? ' ' : line,
          \ 'text_align': 'below', 'bufnr': a:cur.buf})
  endfor
endfunction

" Tabs as spaces, other control characters as ^X: virtual text is drawn as is.
function! s:visible(line) abort
  let line = substitute(a:line, '\t', repeat(' ', &tabstop), 'g')
  return substitute(line, '[[:cntrl:]]', '\=strtrans(submatch(0))', 'g')
endfunction

" The timing of a suggestion, and the filter's last note about it (say,
" that the stop heuristics cut it to nothing).
function! s:info(cur) abort
  if a:cur.cached
    return '(cached)'
  endif
  let notes = filter(split(a:cur.stderr, "\n"), {_, line -> line =~# '^bufbridge: ' && line !~# '^bufbridge: error:'})
  return printf('(%s ms to first text, %d ms in all, %d B context%s)',
        \ a:cur.first < 0 ? '-' : string(float2nr(a:cur.first * 1000)), float2nr(a:cur.ended * 1000), a:cur.context,
        \ empty(notes) ? '' : '; ' . join(map(notes, {_, line -> substitute(line, '^bufbridge: ', '', '')}), '; '))
endfunction

function! s:clear(buf) abort
  if !bufloaded(a:buf)
    return
  endif
  if has('nvim')
    call nvim_buf_clear_namespace(a:buf, s:namespace(), 0, -1)
  elseif !empty(prop_type_get('bufbridge_suggestion'))
    call prop_remove({'type': 'bufbridge_suggestion', 'bufnr': a:buf, 'all': 1})
  endif
endfunction

function! s:prop_types() abort
  if empty(prop_type_get('bufbridge_suggestion'))
    call prop_type_add('bufbridge_suggestion', {'highlight': 'BufBridgeSuggestion'})
  endif
endfunction

function! s:namespace() abort
  return nvim_create_namespace('bufbridge_suggestion')
endfunction

" Messages {{{1

" A failure, said once per s:QUIET_SECONDS however often it happens: a
" server that is down must not give one message per pause in typing.
function! s:complain(message) abort
  if has_key(s:said, a:message) && reltimefloat(reltime(s:said[a:message])) < s:QUIET_SECONDS
    return
  endif
  let s:said[a:message] = reltime()
  echohl WarningMsg
  echomsg 'bufbridge: suggestion: ' . a:message
  echohl None
endfunction

function! s:say(message) abort
  echomsg 'bufbridge: ' . a:message
endfunction

" vim:set et sw=2 foldmethod=marker:
