" autoload/bufbridge.vim - run the bufbridge filter on a buffer, stream its reply in
"
" The functions in this file are for internal use only; the interface is the
" commands and <Plug> maps of plugin/bufbridge.vim, see :help bufbridge.
"
" Three kinds of request (state.mode):
"   - 'send': the buffer as it is; the reply goes at its end;
"   - 'marker' infill (Illume's model): the buffer with a line !infill above
"     the cursor line; the reply goes on new lines above the cursor line;
"   - 'cursor' infill, for source files: the buffer as plain text and the
"     cursor as arguments (`bufbridge --infill-at LINE:COL ...`), so that no
"     line of the file is read as a directive; the reply goes in at the cursor.
" Where the reply goes, and when it must stop because the user undid or
" changed it, is decided in autoload/bufbridge/reply.vim.
"
" A reply is written by one of two carriers, into the same place and the same
" way (s:write):
"   - the host: one `bufbridge host` per editor, started on the first request
"     and kept until the editor exits (autoload/bufbridge/host.vim); the
"     buffer goes in a message, the reply comes back in events;
"   - a plain job, one process per request: the buffer goes to the filter's
"     stdin, its stdout comes back in pieces. Used when the host cannot run
"     (say, an older bufbridge without `host`).

if exists('g:autoloaded_bufbridge')
  finish
endif
let g:autoloaded_bufbridge = 1

let s:next_key = 0     " the last job state key; keys are also Vim text property ids
let s:no_host = 0      " `bufbridge host` could not run: use a process per request

" Filetypes of prose and chats: 'auto' infill uses the !infill marker there,
" and cursor infill in every other buffer that has a filetype. Documented in
" :help g:bufbridge_infill.
let s:TEXT_FILETYPES = ['text', 'markdown', 'mail', 'gitcommit', 'help', 'bufbridge']
let s:EXTRA_MAX_BYTES = 262144  " cursor infill sends no other buffer larger than this

" Events that tell a streaming reply that its buffer changed, was reloaded or
" closed; each running reply has buffer-local autocommands in this group.
augroup bufbridge_reply
augroup END

" Commands {{{1

" force: :BufBridge! sends a source file that has no role line too.
function! bufbridge#send(...) abort
  return s:start('send', get(a:, 1, 0))
endfunction

function! bufbridge#infill() abort
  return s:start('infill', 0)
endfunction

" For 'statusline': '' when nothing streams into buffer {buf} (default: the
" current one), 'bufbridge: waiting 3s' before the first piece,
" 'bufbridge: streaming' after it, 'bufbridge: failed' after a reply that
" failed, until the next request.
function! bufbridge#status(...) abort
  let buf = a:0 ? a:1 : bufnr('')
  let state = s:running(buf)
  if empty(state)
    let vars = getbufvar(buf, '')
    return type(vars) == v:t_dict && get(vars, 'bufbridge_failed') ? 'bufbridge: failed'
          \ : exists('g:autoloaded_bufbridge_suggest') ? bufbridge#suggest#status(buf) : ''
  endif
  if s:waiting(state)
    return printf('bufbridge: waiting %ds', float2nr(reltimefloat(reltime(state.started))))
  endif
  return 'bufbridge: streaming'
endfunction

" No reply text yet: nothing written, or only the "!assistant" header, which
" the filter writes as soon as the server answers, before the first token.
function! s:waiting(state) abort
  return substitute(get(a:state, 'text', ''), '^\n\n!assistant\n\n', '', '') ==# ''
endfunction

function! bufbridge#stop() abort
  let state = s:running(bufnr(''))
  if empty(state)
    return 'echomsg ' . string('bufbridge: nothing is streaming into this buffer')
  endif
  let state.stopped = 1
  call s:kill(state)
  return ''
endfunction

" Start {{{1

" The job state lives in b:bufbridge_job while the reply streams.
function! s:running(buf) abort
  let vars = getbufvar(a:buf, '')
  return type(vars) == v:t_dict ? get(vars, 'bufbridge_job', {}) : {}
endfunction

" kind: 'send' or 'infill'.
function! s:start(kind, force) abort
  let buf = bufnr('')
  if !empty(s:running(buf))
    return s:fail('a reply is already streaming here; :BufBridgeStop stops it')
  endif
  if !&modifiable
    return s:fail('this buffer is not modifiable; :setlocal modifiable first')
  endif
  if a:kind ==# 'send' && !a:force && s:is_source(&filetype) && search('^!\%(user\|assistant\)\%(\s\|$\)', 'nw') == 0
    return s:fail('no !user line in this ' . &filetype . ' file; :BufBridge! sends it anyway, :BufBridgeInfill completes code')
  endif
  call setbufvar(buf, 'bufbridge_failed', 0)
  try
    let state = s:new_state(buf, a:kind ==# 'send' ? 'send' : s:infill_mode(), s:command())
    let started = 0
    try
      call s:prepare(state)
      if s:no_host
        call s:start_job(state)
      else
        call s:start_hosted(state)
      endif
      let started = 1
    finally
      if !started
        call s:release(state)
      endif
    endtry
  catch /^bufbridge:/
    return 'echoerr ' . string(v:exception)
  endtry
  call setbufvar(buf, 'bufbridge_job', state)
  call s:watch(buf)
  call s:tick_while_waiting()
  return ''
endfunction

" While a reply waits for its first piece, redraw the status lines every
" second, so that bufbridge#status() counts the seconds.
function! s:tick_while_waiting() abort
  if !exists('s:ticker')
    let s:ticker = timer_start(1000, function('s:tick'), {'repeat': -1})
  endif
endfunction

function! s:tick(timer) abort
  let waiting = filter(getbufinfo({'bufloaded': 1}), {_, info -> s:waiting(get(info.variables, 'bufbridge_job', {'text': 'x'}))})
  if empty(waiting)
    call timer_stop(a:timer)
    unlet! s:ticker
  endif
  redrawstatus!
endfunction

" state.after: where the reply starts, [line, byte column] (see
" autoload/bufbridge/reply.vim): the end of the buffer, or the cursor.
function! s:new_state(buf, mode, cmd) abort
  let s:next_key += 1
  let after = a:mode ==# 'send' ? [line('$'), len(getline('$')) + 1]
        \ : [line('.'), a:mode ==# 'cursor' ? s:infill_col() : 1]
  return {'key': s:next_key, 'buf': a:buf, 'mode': a:mode, 'cmd': a:cmd, 'started': reltime(),
        \ 'id': 0, 'written': 0, 'after': after, 'broken': '',
        \ 'stopped': 0, 'gone': 0, 'exited': 0, 'closed': 0, 'status': 0,
        \ 'stderr': '', 'input': '', 'extra': '', 'options': []}
endfunction

" Where cursor infill goes in: before the character under the cursor, as
" Insert mode types; but in Normal mode on the last character of a line,
" after it (the cursor cannot be past it), unless it closes something.
function! s:infill_col() abort
  let last = matchstr(getline('.'), '.$')
  if mode() ==# 'n' && last !=# '' && col('.') + len(last) - 1 == len(getline('.')) && last !~# '[])}>"''`]'
    return col('.') + len(last)
  endif
  return col('.')
endfunction

" What the request needs besides the buffer, gathered before the job starts.
function! s:prepare(state) abort
  call bufbridge#reply#start(a:state)
  if a:state.mode ==# 'cursor'
    let a:state.options = s:infill_options()
    let a:state.extra = s:write_extras(a:state.buf, s:infill_context())
  endif
endfunction

function! s:command() abort
  let cmd = s:arguments_option('g:bufbridge_command', get(g:, 'bufbridge_command', ['bufbridge']))
  if get(cmd, 0, '') =~# '^\~[/\\]'
    let cmd[0] = expand(cmd[0])
  endif
  if empty(cmd) || !executable(cmd[0])
    throw 'bufbridge: cannot run ' . string(get(cmd, 0, '')) . ': no such executable; '
          \ . 'install bufbridge or set g:bufbridge_command (:help g:bufbridge_command)'
  endif
  return cmd
endfunction

" An option that holds arguments: a List, or a String split at white space.
function! s:arguments_option(name, value) abort
  if type(a:value) == v:t_string
    return split(a:value)
  elseif type(a:value) == v:t_list
    return map(copy(a:value), 'type(v:val) == v:t_string ? v:val : string(v:val)')
  endif
  throw 'bufbridge: ' . a:name . ' must be a List of arguments'
endfunction

" Infill mode {{{1

" 'cursor' or 'marker', from b:bufbridge_infill or g:bufbridge_infill.
function! s:infill_mode() abort
  let name = exists('b:bufbridge_infill') ? 'b:bufbridge_infill' : 'g:bufbridge_infill'
  let mode = get(b:, 'bufbridge_infill', get(g:, 'bufbridge_infill', 'auto'))
  if mode is# 'auto'
    return s:is_source(&filetype) ? 'cursor' : 'marker'
  elseif mode is# 'cursor' || mode is# 'marker'
    return mode
  endif
  throw 'bufbridge: ' . name . ' must be ''auto'', ''cursor'' or ''marker'', not ' . string(mode)
endfunction

" A source file has a filetype, none of whose dotted parts is a text filetype.
function! s:is_source(filetype) abort
  let parts = split(a:filetype, '\.')
  return !empty(parts) && empty(filter(parts, 'index(s:TEXT_FILETYPES, v:val) >= 0'))
endfunction

" The user's filter options for cursor infill (--fim, --profile, ...).
function! s:infill_options() abort
  let name = exists('b:bufbridge_infill_args') ? 'b:bufbridge_infill_args' : 'g:bufbridge_infill_args'
  return s:arguments_option(name, get(b:, 'bufbridge_infill_args', get(g:, 'bufbridge_infill_args', [])))
endfunction

" What the filter reads and its arguments {{{1

" The buffer; for marker infill, a line !infill just above the cursor line
" (the text above it is the prefix, the rest the suffix).
function! s:input(state) abort
  let lines = getbufline(a:state.buf, 1, '$')
  if a:state.mode ==# 'marker'
    call insert(lines, '!infill', bufbridge#reply#point(a:state)[0] - 1)
  endif
  return lines
endfunction

" The arguments of this request after g:bufbridge_command; read together
" with the buffer, so that the position matches the text.
function! s:arguments(state) abort
  if a:state.mode !=# 'cursor'
    return []
  endif
  let args = s:cursor_arguments(a:state.buf, bufbridge#reply#point(a:state)) + a:state.options
  return args + (empty(a:state.extra) ? [] : ['--extra-json', a:state.extra])
endfunction

function! s:cursor_arguments(buf, point) abort
  let args = ['--infill-at', a:point[0] . ':' . a:point[1], '--repo', fnamemodify(getcwd(), ':t')]
  let name = bufname(a:buf)
  return args + (name ==# '' ? [] : ['--filename', fnamemodify(name, ':.')])
endfunction

" For autoload/bufbridge/suggest.vim {{{1

" The command, and the arguments of a cursor infill at [lnum, col] of the
" current buffer (with the user's infill options); raises 'bufbridge: ...'.
function! bufbridge#cursor_command(lnum, col) abort
  return [s:command(), s:cursor_arguments(bufnr(''), [a:lnum, a:col]) + s:infill_options()]
endfunction

" Suggestions (autoload/bufbridge/suggest.vim) {{{1

" The suggestion shown now, '' when none.
function! bufbridge#suggestion() abort
  return bufbridge#suggest#text()
endfunction

" The keys that accept the suggestion shown ('all', its first 'line' or next
" 'word'), for an <expr> mapping; '' when none shows.
function! bufbridge#accept(...) abort
  return bufbridge#suggest#accept_keys(get(a:, 1, 'all'))
endfunction

function! bufbridge#is_source(filetype) abort
  return s:is_source(a:filetype)
endfunction

" Which other buffers go along as context with cursor infill: 'project',
" 'buffers' or 'none', from b:bufbridge_infill_context or
" g:bufbridge_infill_context. Files that look like secrets are left out by
" the filter itself (bridge/fim.py), whatever this says.
function! s:infill_context() abort
  let name = exists('b:bufbridge_infill_context') ? 'b:bufbridge_infill_context' : 'g:bufbridge_infill_context'
  let context = get(b:, 'bufbridge_infill_context', get(g:, 'bufbridge_infill_context', 'project'))
  if type(context) == v:t_string && index(['project', 'buffers', 'none'], context) >= 0
    return context
  endif
  throw 'bufbridge: ' . name . ' must be ''project'', ''buffers'' or ''none'', not ' . string(context)
endfunction

" The other buffers as context for cursor infill: a temporary file for
" --extra-json, or '' when there are none.
function! s:write_extras(buf, context) abort
  let items = a:context ==# 'none' ? [] : s:extras(a:buf, a:context ==# 'project')
  if empty(items)
    return ''
  endif
  let file = tempname()
  call writefile([json_encode(items)], file)
  return file
endfunction

" Every other listed, loaded, normal buffer with a name and at most
" s:EXTRA_MAX_BYTES (with `project`, only those whose file is under the
" current directory, symbolic links resolved), as {filename, text}, sorted
" by name; never a chat or prose buffer.
function! s:extras(buf, project) abort
  let items = []
  let root = s:real(getcwd())
  let root .= root =~# '[/\\]$' ? '' : '/'
  for info in getbufinfo({'buflisted': 1, 'bufloaded': 1})
    if info.bufnr == a:buf || info.name ==# '' || getbufvar(info.bufnr, '&buftype') !=# ''
          \ || s:is_prose(getbufvar(info.bufnr, '&filetype'))
          \ || info.linecount > s:EXTRA_MAX_BYTES
          \ || a:project && stridx(s:real(info.name), root) != 0
      continue
    endif
    let text = join(getbufline(info.bufnr, 1, '$'), "\n") . "\n"
    if len(text) <= s:EXTRA_MAX_BYTES
      call add(items, {'filename': fnamemodify(bufname(info.bufnr), ':.'), 'text': text})
    endif
  endfor
  return sort(items, {a, b -> a.filename <# b.filename ? -1 : a.filename ># b.filename})
endfunction

" A chat or prose buffer: one of whose dotted filetype parts is a text filetype.
function! s:is_prose(filetype) abort
  return !empty(filter(split(a:filetype, '\.'), 'index(s:TEXT_FILETYPES, v:val) >= 0'))
endfunction

" The full path of a file with symbolic links resolved, also through a
" folder that is a link; '/' separated.
function! s:real(path) abort
  return tr(resolve(fnamemodify(a:path, ':p')), '\', '/')
endfunction

" Carriers {{{1

" A plain job: the buffer on stdin, the reply from stdout as it arrives.
" Neither editor blocks on a large buffer: Neovim queues what the pipe cannot
" take yet, Vim reads it from a file.
function! s:start_job(state) abort
  let cmd = a:state.cmd + s:arguments(a:state)
  if has('nvim')
    let a:state.id = jobstart(cmd, {
          \ 'on_stdout': function('s:nvim_out', [a:state]),
          \ 'on_stderr': function('s:nvim_err', [a:state]),
          \ 'on_exit': function('s:nvim_exit', [a:state])})
    if a:state.id <= 0
      throw 'bufbridge: cannot start ' . join(cmd)
    endif
    call chansend(a:state.id, s:input(a:state) + [''])
    call chanclose(a:state.id, 'stdin')
    return
  endif
  let a:state.input = tempname()
  call writefile(s:input(a:state), a:state.input)
  let a:state.job = job_start(cmd, {
        \ 'in_io': 'file', 'in_name': a:state.input,
        \ 'out_mode': 'raw', 'err_mode': 'raw',
        \ 'out_cb': function('s:vim_out', [a:state]),
        \ 'err_cb': function('s:vim_err', [a:state]),
        \ 'exit_cb': function('s:vim_exit', [a:state]),
        \ 'close_cb': function('s:vim_close', [a:state])})
  if job_status(a:state.job) ==# 'fail'
    throw 'bufbridge: cannot start ' . join(cmd)
  endif
endfunction

" The host: the same arguments and input as a plain job, in one message.
function! s:start_hosted(state) abort
  let a:state.request = bufbridge#host#request(a:state.cmd, {
        \ 'args': s:arguments(a:state), 'text': join(s:input(a:state), "\n") . "\n", 'cwd': getcwd()}, {
        \ 'on_text': function('s:out', [a:state]),
        \ 'on_stderr': function('s:host_stderr', [a:state]),
        \ 'on_done': function('s:host_done', [a:state])})
endfunction

" Job callbacks {{{1

function! s:vim_out(state, channel, text) abort
  call s:out(a:state, a:text)
endfunction

function! s:vim_err(state, channel, text) abort
  let a:state.stderr .= a:text
endfunction

" Vim may report the exit before the last output: finish when both are in.
function! s:vim_exit(state, job, status) abort
  let a:state.exited = 1
  let a:state.status = a:status
  if a:state.closed
    call s:finish(a:state)
  endif
endfunction

function! s:vim_close(state, channel) abort
  let a:state.closed = 1
  if a:state.exited
    call s:finish(a:state)
  endif
endfunction

" Neovim splits output into a list at newlines; joining restores the bytes.
function! s:nvim_out(state, id, data, event) abort
  call s:out(a:state, join(a:data, "\n"))
endfunction

function! s:nvim_err(state, id, data, event) abort
  let a:state.stderr .= join(a:data, "\n")
endfunction

function! s:nvim_exit(state, id, status, event) abort
  let a:state.status = a:status
  call s:finish(a:state)
endfunction

function! s:host_stderr(state, text) abort
  let a:state.stderr .= a:text
endfunction

" why: '' (finished), 'cancelled', 'unavailable' (the host could not run:
" this request and the next ones use a process each), or why the host died.
function! s:host_done(state, status, why) abort
  let a:state.status = a:status
  if a:why ==# 'unavailable' && !a:state.stopped && !a:state.gone
    let s:no_host = 1
    call remove(a:state, 'request')
    call s:warn('the host could not start; each reply starts a process of its own'
          \ . ' (slower; :BufBridgeRestart tries the host again)')
    let a:state.stderr = ''
    try
      return s:start_job(a:state)
    catch /^bufbridge:/
      let a:state.stderr = v:exception
    endtry
  elseif a:why !=# '' && a:why !=# 'cancelled'
    let a:state.gone = 1
    call s:warn(a:why . (a:state.written ? '; what arrived is kept' : '') . '; the next request starts a new host')
  endif
  call s:finish(a:state)
endfunction

" A piece of a plain job's output. It may end anywhere, even inside a UTF-8
" character: pieces are joined as bytes, so the next one completes it.
function! s:out(state, text) abort
  if a:text !=# ''
    call s:write(a:state, a:text)
  endif
endfunction

" Writing the reply {{{1

" A piece of the reply; 0 when it cannot be written: the reply is stopped.
function! s:write(state, text) abort
  if a:state.gone
    return 0
  endif
  try
    let a:state.broken = ''
    if !bufloaded(a:state.buf)
      throw 'bufbridge: buffer ' . a:state.buf . ' was closed'
    endif
    call s:in_buffer(a:state.buf, function('s:put', [a:state, a:text]))
  catch
    " Through nvim_buf_call() our own error comes wrapped in a Lua error.
    let ours = matchstr(v:exception, 'bufbridge: \zs.*')
    let a:state.broken = ours !=# '' ? ours : 'cannot write the reply into buffer ' . a:state.buf . ': '
          \ . substitute(v:exception, '^Vim\%((\a\+)\)\=:', '', '')
  endtry
  if a:state.broken !=# ''
    call s:abandon(a:state, a:state.broken)
    return 0
  endif
  let a:state.written = a:state.written || a:text !=# ''
  return 1
endfunction

" Runs with the reply's buffer current; state.broken says why it cannot.
function! s:put(state, text) abort
  let a:state.broken = bufbridge#reply#broken(a:state)
  if a:state.broken ==# '' && a:text !=# ''
    let followers = s:followers(a:state)
    call bufbridge#reply#put(a:state, a:text)
    let [lnum, col] = bufbridge#reply#point(a:state)
    for win in followers
      call win_execute(win, 'call cursor(' . lnum . ', ' . col . ')')
    endfor
  endif
endfunction

" With g:bufbridge_follow, the windows whose cursor is on the line where the
" reply is being written keep it there as the reply grows, as `tail -f` does.
" Cursor infill is left alone: its text goes in at the cursor anyway.
function! s:followers(state) abort
  if !get(g:, 'bufbridge_follow', 0) || a:state.mode ==# 'cursor'
    return []
  endif
  let lnum = get(bufbridge#reply#point(a:state), 0, -1)
  return filter(win_findbuf(a:state.buf), {_, win -> getcurpos(win)[1] == lnum})
endfunction

" Undo commands act on the current buffer only, so the reply is written with
" its buffer made current: directly, in a window that shows it, or (Vim) in a
" hidden popup window, (Neovim) through nvim_buf_call().
function! s:in_buffer(buf, Fn) abort
  if bufnr('') == a:buf
    return a:Fn()
  endif
  let s:Deferred = a:Fn
  try
    if has('nvim')
      call luaeval('vim.api.nvim_buf_call(_A, function() vim.fn["bufbridge#deferred"]() end)', a:buf)
      return
    endif
    let win = get(win_findbuf(a:buf), 0, 0)
    let popup = win ? 0 : popup_create(a:buf, {'hidden': 1})
    try
      call win_execute(win ? win : popup, 'call bufbridge#deferred()')
    finally
      if popup
        call popup_close(popup)
      endif
    endtry
  finally
    unlet! s:Deferred
  endtry
endfunction

function! bufbridge#deferred() abort
  return s:Deferred()
endfunction

" Watching the buffer while the reply streams {{{1
"
" The check that runs before every piece (bufbridge#reply#broken) also runs
" as soon as the user changes the buffer, so that an undo stops the reply,
" and the server, at once rather than at the next piece. A reload or an
" unload stops it in any case: nothing is written into a reloaded text.

function! s:watch(buf) abort
  let buffer = '<buffer=' . a:buf . '>'
  augroup bufbridge_reply
    execute 'autocmd! *' buffer
    execute 'autocmd TextChanged,TextChangedI,TextChangedP' buffer 'call bufbridge#changed(' . a:buf . ')'
    execute 'autocmd BufReadPost,FileChangedShellPost' buffer
          \ 'call bufbridge#lost(' . a:buf . ', "was reloaded")'
    execute 'autocmd BufUnload' buffer 'call bufbridge#lost(' . a:buf . ', "was closed or reloaded")'
  augroup END
endfunction

function! s:unwatch(buf) abort
  if bufexists(a:buf)
    execute 'autocmd! bufbridge_reply * <buffer=' . a:buf . '>'
  endif
endfunction

" The user changed the buffer (it is the current one).
function! bufbridge#changed(buf) abort
  let state = s:running(a:buf)
  if !empty(state) && !state.gone
    let broken = bufbridge#reply#broken(state)
    if broken !=# ''
      call s:abandon(state, broken)
    endif
  endif
endfunction

function! bufbridge#lost(buf, what) abort
  let state = s:running(a:buf)
  if !empty(state) && !state.gone
    call s:abandon(state, 'buffer ' . a:buf . ' ' . a:what)
  endif
endfunction

" Stop and finish {{{1

" Stop a reply that can no longer be written where it belongs; nothing more
" of it is written, and what is in the buffer stays as the user left it.
function! s:abandon(state, why) abort
  let a:state.gone = 1
  call s:kill(a:state)
  call s:warn('stopped: ' . a:why)
endfunction

function! s:kill(state) abort
  if has_key(a:state, 'request')
    call bufbridge#host#cancel(a:state.request)
  elseif has_key(a:state, 'job')
    call job_stop(a:state.job)
  elseif a:state.id > 0
    call jobstop(a:state.id)
  endif
endfunction

" The mark and the temporary files go when the job ends or fails to start.
function! s:release(state) abort
  call bufbridge#reply#release(a:state)
  call s:unwatch(a:state.buf)
  for file in [a:state.input, a:state.extra]
    if !empty(file)
      call delete(file)
    endif
  endfor
endfunction

function! s:finish(state) abort
  call s:release(a:state)
  if s:running(a:state.buf) is a:state
    call remove(getbufvar(a:state.buf, ''), 'bufbridge_job')
  endif
  let explained = s:report(a:state.stderr)
  if a:state.stopped
    call s:say('bufbridge: stopped')
  elseif a:state.status != 0 && !a:state.gone && !(explained && a:state.mode ==# 'cursor')
    call s:warn('the filter exited with status ' . a:state.status
          \ . (a:state.written && a:state.mode !=# 'cursor' ? '; the !error block in the buffer says why' : ''))
  endif
  call setbufvar(a:state.buf, 'bufbridge_failed', a:state.status != 0 && !a:state.stopped && !a:state.gone)
  redrawstatus!
  if exists('#User#BufBridgeDone')
    let g:bufbridge_done = {'buffer': a:state.buf, 'status': a:state.status, 'stopped': a:state.stopped || a:state.gone}
    doautocmd <nomodeline> User BufBridgeDone
  endif
endfunction

" The filter's standard error into :messages; whether it reported an error.
function! s:report(stderr) abort
  let errors = 0
  for line in split(a:stderr, "\n")
    let line = line =~# '^bufbridge:' ? line : 'bufbridge: ' . line
    if line =~# '^bufbridge: error:'
      call s:error(line)
      let errors += 1
    else
      call s:say(line)
    endif
  endfor
  return errors > 0
endfunction

" The host {{{1

" :BufBridgeRestart: stop the host; the next request starts a new one, with
" the editor's environment as it is then (and tries the host again after it
" could not start).
function! bufbridge#restart() abort
  let s:no_host = 0
  if exists('g:autoloaded_bufbridge_suggest')
    call bufbridge#suggest#reset()
  endif
  call bufbridge#host#stop()
  call s:say('bufbridge: the host will start again with the next request')
  return ''
endfunction

" Messages {{{1

function! s:fail(message) abort
  return 'echoerr ' . string('bufbridge: ' . a:message)
endfunction

function! s:say(message) abort
  call s:show('None', a:message)
endfunction

function! s:warn(message) abort
  call s:show('WarningMsg', 'bufbridge: ' . a:message)
endfunction

function! s:error(message) abort
  call s:show('ErrorMsg', a:message)
endfunction

" A message goes whole into :messages. The command line shows it when it
" fits on one line; otherwise its first clause (up to "; ", where the hint
" begins) and a pointer to the rest, instead of Vim cutting it in the middle.
function! s:show(highlight, message) abort
  execute 'echohl' a:highlight
  echomsg a:message
  let room = &columns - 1 - (&ruler ? 18 : 0) - (&showcmd ? 11 : 0)
  if strdisplaywidth(a:message) > room
    redraw
    echo s:shorten(a:message, room)
  endif
  echohl None
endfunction

" message, cut to at most width display cells: its first clause, shortened
" further with "..." if need be, then " (see :messages)".
function! s:shorten(message, width) abort
  let more = ' (see :messages)'
  let short = matchstr(a:message, '^.\{-}\ze\%(; \|$\)')
  if strdisplaywidth(short . more) <= a:width
    return short . more
  endif
  let room = max([a:width - strdisplaywidth(more) - 3, 1])
  while strdisplaywidth(short) > room
    let short = strcharpart(short, 0, strchars(short) - max([1, (strdisplaywidth(short) - room) / 2]))
  endwhile
  return short . '...' . more
endfunction

" vim:set et sw=2 foldmethod=marker:
