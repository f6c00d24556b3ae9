%% Erlang/OTP ssh peer for ssh-harness: the daemon of target `erlang` and the client of client peer
%% `erlang-client`. Compiled at setup with erlc; run as
%%   erl -noshell -pa DIR -run ssh_harness_peer server      (the daemon; ends with its OS process)
%%   erl -noshell -pa DIR -run ssh_harness_peer client      (one exec; halts with the remote exit status)
%% Configuration comes from the environment (SSH_HARNESS_*, the same names as the libssh peer):
%%   server: HOST, PORT (0 = any), HOSTKEYS (OpenSSH private key files, ':'-separated), USER, PASSWORD,
%%           AUTHORIZED_KEYS (file), METHODS, KEX, HOSTKEY_ALGORITHMS, CIPHERS, MACS, COMPRESSION (comma lists)
%%   client: HOST, PORT, USER, PASSWORD, IDENTITY, COMMAND, FINGERPRINTS (SHA256:..., comma list), the same lists
%% The daemon's sessions run the built-in command set of `ssh-harness serve` (echo, cat, exit N, true, false,
%% discard, yes N) in an ssh_server_channel of this module: nothing is run by a shell or the Erlang shell.
-module(ssh_harness_peer).
-behaviour(ssh_server_key_api).
-behaviour(ssh_client_key_api).
-behaviour(ssh_server_channel).

-export([server/0, client/0]).
-export([host_key/2, is_auth_key/3]).                  % ssh_server_key_api
-export([is_host_key/5, add_host_key/4, user_key/2]).   % ssh_client_key_api
-export([init/1, handle_msg/2, handle_ssh_msg/2, terminate/2]). % ssh_server_channel

-define(MAX_YES, 1 bsl 30).
-define(ED25519, {1,3,101,112}).
-define(ED448, {1,3,101,113}).
-define(P256, {1,2,840,10045,3,1,7}).
-define(P384, {1,3,132,0,34}).
-define(P521, {1,3,132,0,35}).

%% ------------------------------------------------------------------ configuration

env(Name) ->
    case os:getenv("SSH_HARNESS_" ++ Name) of
        false -> undefined;
        "" -> undefined;
        V -> V
    end.

env(Name, Default) ->
    case env(Name) of undefined -> Default; V -> V end.

list(Name) ->
    case env(Name) of
        undefined -> [];
        V -> [list_to_atom(S) || S <- string:lexemes(V, ",")]
    end.

%% preferred_algorithms from the SSH_HARNESS_* lists (only the kinds that were given)
preferred() ->
    Both = fun(L) -> [{client2server, L}, {server2client, L}] end,
    Kinds = [{kex, list("KEX"), fun(L) -> L end},
             {public_key, list("HOSTKEY_ALGORITHMS"), fun(L) -> L end},
             {cipher, list("CIPHERS"), Both},
             {mac, list("MACS"), Both},
             {compression, list("COMPRESSION"), Both}],
    case [{K, F(L)} || {K, L, F} <- Kinds, L =/= []] of
        [] -> [];
        P -> [{preferred_algorithms, P}]
    end.

log(Fmt, Args) -> io:format(standard_error, "erlang-ssh-peer: " ++ Fmt ++ "~n", Args).

%% ------------------------------------------------------------------ keys

%% OpenSSH private key file -> {Private, Public} (ssh_file decodes openssh-key-v1, OTP 24+)
read_key(Path) ->
    {ok, Bin} = file:read_file(Path),
    [{Priv, _}, {Pub, _} | _] = ssh_file:decode(Bin, openssh_key_v1),
    {Priv, Pub}.

%% RFC 4253 §6.6 / RFC 8332 §3: the signature algorithms a key can serve
algorithms_of({'RSAPrivateKey', _, _, _, _, _, _, _, _, _, _}) -> ['rsa-sha2-256', 'rsa-sha2-512', 'ssh-rsa'];
algorithms_of({'ECPrivateKey', _, _, {namedCurve, ?ED25519}, _, _}) -> ['ssh-ed25519'];
algorithms_of({'ECPrivateKey', _, _, {namedCurve, ?ED448}, _, _}) -> ['ssh-ed448'];
algorithms_of({'ECPrivateKey', _, _, {namedCurve, ?P256}, _, _}) -> ['ecdsa-sha2-nistp256'];
algorithms_of({'ECPrivateKey', _, _, {namedCurve, ?P384}, _, _}) -> ['ecdsa-sha2-nistp384'];
algorithms_of({'ECPrivateKey', _, _, {namedCurve, ?P521}, _, _}) -> ['ecdsa-sha2-nistp521'];
algorithms_of(_) -> [].

host_key(Algorithm, _Opts) ->
    case [K || {A, K} <- persistent_term:get({?MODULE, host_keys}), A =:= Algorithm] of
        [Key | _] -> {ok, Key};
        [] -> {error, no_host_key}
    end.

is_auth_key(PublicKey, User, _Opts) ->
    User =:= env("USER", "sshharness") andalso lists:member(PublicKey, persistent_term:get({?MODULE, authorized})).

is_host_key(Key, _Host, _Port, _Alg, _Opts) ->
    case env("FINGERPRINTS") of
        undefined -> true;
        Fps -> lists:member(ssh:hostkey_fingerprint(sha256, Key), string:lexemes(Fps, ","))
    end.

add_host_key(_Host, _Port, _Key, _Opts) -> ok.

user_key(Algorithm, _Opts) ->
    case env("IDENTITY") of
        undefined -> {error, no_identity};
        Path ->
            {Priv, _} = read_key(Path),
            case lists:member(Algorithm, algorithms_of(Priv)) of
                true -> {ok, Priv};
                false -> {error, wrong_type}
            end
    end.

authorized_keys() ->
    case env("AUTHORIZED_KEYS") of
        undefined -> [];
        Path ->
            {ok, Bin} = file:read_file(Path),
            [Key || {Key, _} <- ssh_file:decode(Bin, auth_keys)]
    end.

%% ------------------------------------------------------------------ server

server() ->
    {ok, _} = application:ensure_all_started(ssh),
    HostKeys = [{A, Priv} || Path <- string:lexemes(env("HOSTKEYS", ""), ":"),
                             {Priv, _} <- [read_key(Path)], A <- algorithms_of(Priv)],
    persistent_term:put({?MODULE, host_keys}, HostKeys),
    persistent_term:put({?MODULE, authorized}, authorized_keys()),
    User = env("USER", "sshharness"),
    Methods = env("METHODS", "password,publickey"),
    Password = case string:find(Methods, "password") of nomatch -> undefined; _ -> env("PASSWORD") end,
    {ok, Ip} = inet:parse_address(env("HOST", "127.0.0.1")),
    Port = list_to_integer(env("PORT", "0")),
    Opts = [{key_cb, {?MODULE, []}},
            {auth_methods, Methods},
            {pwdfun, fun(U, P) -> Password =/= undefined andalso U =:= User andalso P =:= Password end},
            {ssh_cli, {?MODULE, []}},
            {subsystems, []},
            {parallel_login, true},
            {connectfun, fun(U, Peer, Method) -> log("~s authenticated by ~s from ~p", [U, Method, Peer]) end},
            {failfun, fun(U, Peer, Reason) -> log("authentication of ~s from ~p failed: ~p", [U, Peer, Reason]) end},
            {disconnectfun, fun(Reason) -> log("disconnected: ~p", [Reason]) end}
            | preferred()],
    case ssh:daemon(Ip, Port, Opts) of
        {ok, Ref} ->
            {ok, Info} = ssh:daemon_info(Ref),
            {ok, Vsn} = application:get_key(ssh, vsn),
            io:format(standard_error, "erlang ssh ~s listening on ~s:~p~n",
                      [Vsn, inet:ntoa(Ip), proplists:get_value(port, Info)]),
            receive stop -> ok end;
        {error, Reason} ->
            log("daemon failed: ~p", [Reason]),
            erlang:halt(3)
    end.

%% ------------------------------------------------------------------ session channel (built-in commands)

-record(ch, {cm, id, started = false, steps = [], eof = false, input = <<>>, count = 0}).

init(_) -> {ok, #ch{}}.

handle_msg({ssh_channel_up, Id, CM}, S) -> {ok, S#ch{cm = CM, id = Id}};
handle_msg(_, S) -> {ok, S}.

handle_ssh_msg({ssh_cm, CM, {exec, Id, Want, Cmd}}, S) -> start(CM, Id, Want, Cmd, S);
handle_ssh_msg({ssh_cm, CM, {shell, Id, Want}}, S) -> start(CM, Id, Want, "cat", S);
handle_ssh_msg({ssh_cm, CM, {pty, Id, Want, _}}, S) -> ssh_connection:reply_request(CM, Want, success, Id), {ok, S};
handle_ssh_msg({ssh_cm, CM, {env, Id, Want, _, _}}, S) -> ssh_connection:reply_request(CM, Want, success, Id), {ok, S};
handle_ssh_msg({ssh_cm, _, {data, _, 0, Data}}, S) -> step(S#ch{input = <<(S#ch.input)/binary, Data/binary>>});
handle_ssh_msg({ssh_cm, _, {eof, _}}, S) -> step(S#ch{eof = true});
handle_ssh_msg({ssh_cm, _, {closed, Id}}, S) -> {stop, Id, S};
handle_ssh_msg({ssh_cm, CM, {_, Id, Want, _}}, S) when is_boolean(Want) ->
    ssh_connection:reply_request(CM, Want, failure, Id), {ok, S};
handle_ssh_msg(_, S) -> {ok, S}.

terminate(_, _) -> ok.

%% RFC 4254 §6.5: only one of shell, exec, subsystem succeeds per channel
start(CM, Id, Want, _Cmd, S = #ch{started = true}) ->
    ssh_connection:reply_request(CM, Want, failure, Id), {ok, S};
start(CM, Id, Want, Cmd, S) ->
    ssh_connection:reply_request(CM, Want, success, Id),
    step(S#ch{cm = CM, id = Id, started = true, steps = parse(unicode:characters_to_list(Cmd))}).

parse(Cmd) ->
    [Words || Part <- string:split(Cmd, ";", all), Words <- [words(Part)], Words =/= []].

%% splits on blanks, honouring single and double quotes (enough for the built-in commands)
words(S) -> words(S, [], [], none, false).
words([], Cur, Acc, _, InWord) -> lists:reverse(if InWord -> [lists:reverse(Cur) | Acc]; true -> Acc end);
words([Q | T], Cur, Acc, Q, _) -> words(T, Cur, Acc, none, true);
words([C | T], Cur, Acc, Q, _) when Q =/= none -> words(T, [C | Cur], Acc, Q, true);
words([Q | T], Cur, Acc, none, _) when Q =:= $'; Q =:= $" -> words(T, Cur, Acc, Q, true);
words([C | T], Cur, Acc, none, InWord) when C =:= $\s; C =:= $\t; C =:= $\n ->
    words(T, [], if InWord -> [lists:reverse(Cur) | Acc]; true -> Acc end, none, false);
words([C | T], Cur, Acc, none, _) -> words(T, [C | Cur], Acc, none, true).

out(#ch{cm = CM, id = Id}, Data) -> ssh_connection:send(CM, Id, Data).

int([N | _]) -> case string:to_integer(N) of {I, _} when is_integer(I) -> I; _ -> 0 end;
int([]) -> 0.

%% Runs steps until one needs input that has not arrived yet.
step(S = #ch{started = false}) -> {ok, S};
step(S = #ch{steps = []}) -> finish(S, 0);
step(S = #ch{steps = [[Name | Args] | Rest]}) ->
    case Name of
        "echo" -> out(S, [lists:join(" ", Args), "\n"]), step(S#ch{steps = Rest});
        "true" -> step(S#ch{steps = Rest});
        "false" -> finish(S, 1);
        "exit" -> finish(S, int(Args) band 16#ff);
        "yes" -> yes(S, min(max(int(Args), 0), ?MAX_YES)), step(S#ch{steps = Rest});
        C when C =:= "cat"; C =:= "discard" ->
            In = S#ch.input,
            C =:= "cat" andalso In =/= <<>> andalso out(S, In),
            S1 = S#ch{input = <<>>, count = S#ch.count + byte_size(In)},
            case S1#ch.eof of
                false -> {ok, S1};
                true ->
                    C =:= "discard" andalso out(S1, integer_to_list(S1#ch.count) ++ "\n"),
                    step(S1#ch{steps = Rest})
            end;
        _ ->
            ssh_connection:send(S#ch.cm, S#ch.id, 1, Name ++ ": command not found\n"),
            finish(S, 127)
    end.

yes(_, N) when N =< 0 -> ok;
yes(S, N) ->
    Piece = min(N, 32768),
    out(S, binary:copy(<<"y\n">>, Piece div 2)),
    Piece rem 2 =:= 1 andalso out(S, <<"y">>),
    yes(S, N - Piece).

%% RFC 4254 §6.10: exit-status, then EOF and CLOSE
finish(S = #ch{cm = CM, id = Id}, Status) ->
    ssh_connection:exit_status(CM, Id, Status),
    ssh_connection:send_eof(CM, Id),
    {stop, Id, S#ch{steps = []}}.

%% ------------------------------------------------------------------ client

client() ->
    Code = try run_client() catch C:E -> log("client: ~p:~p", [C, E]), 255 end,
    erlang:halt(Code, [{flush, true}]).

run_client() ->
    {ok, _} = application:ensure_all_started(ssh),
    %% one port for fd 0 (read to EOF) and fd 1; closing a port closes its descriptors, so none is closed
    Out = open_port({fd, 0, 1}, [in, out, binary, eof]),
    Err = open_port({fd, 2, 2}, [out, binary]),
    Stdin = read_all(Out, []),
    Opts = [{user, env("USER", "sshharness")}, {user_interaction, false}, {silently_accept_hosts, false},
            {save_accepted_host, false}, {quiet_mode, true}, {key_cb, {?MODULE, []}},
            {connect_timeout, 15000}]
        ++ case getenv_raw("PASSWORD") of false -> []; P -> [{password, P}] end
        ++ case env("IDENTITY") of
               undefined -> [{auth_methods, "password"}];
               _ -> [{auth_methods, case getenv_raw("PASSWORD") of false -> "publickey"; _ -> "publickey,password" end}]
           end
        ++ preferred(),
    case ssh:connect(env("HOST", "127.0.0.1"), list_to_integer(env("PORT", "22")), Opts, 15000) of
        {ok, Conn} ->
            {ok, Ch} = ssh_connection:session_channel(Conn, 15000),
            case ssh_connection:exec(Conn, Ch, env("COMMAND", "true"), 15000) of
                success ->
                    Stdin =/= <<>> andalso ssh_connection:send(Conn, Ch, Stdin),
                    ssh_connection:send_eof(Conn, Ch),
                    %% a connection that dies (a DISCONNECT, a protocol error) sends no 'closed' for the channel
                    erlang:monitor(process, Conn),
                    collect(Conn, Ch, Out, Err, 255);
                Other ->
                    port_command(Err, io_lib:format("erlang-client: exec refused: ~p~n", [Other])),
                    255
            end;
        {error, Reason} ->
            port_command(Err, io_lib:format("erlang-client: ~p~n", [Reason])),
            255
    end.

getenv_raw(Name) -> os:getenv("SSH_HARNESS_" ++ Name).

read_all(Port, Acc) ->
    receive
        {Port, {data, D}} -> read_all(Port, [D | Acc]);
        {Port, eof} -> iolist_to_binary(lists:reverse(Acc))
    end.

collect(Conn, Ch, Out, Err, Status) ->
    receive
        {ssh_cm, Conn, {data, Ch, 0, D}} -> port_command(Out, D), collect(Conn, Ch, Out, Err, Status);
        {ssh_cm, Conn, {data, Ch, _, D}} -> port_command(Err, D), collect(Conn, Ch, Out, Err, Status);
        {ssh_cm, Conn, {exit_status, Ch, S}} -> collect(Conn, Ch, Out, Err, S);
        {ssh_cm, Conn, {closed, Ch}} -> ssh:close(Conn), Status;
        {ssh_cm, Conn, _} -> collect(Conn, Ch, Out, Err, Status);
        {'DOWN', _, process, Conn, Reason} ->
            port_command(Err, io_lib:format("erlang-client: connection ended: ~p~n", [Reason])),
            255
    after 60000 -> 255
    end.
